/** The webhook admin routes (docs/webhooks.md) through `app.request()`, with an in-memory store and no delivery loop. */
import { describe, expect, it } from 'vitest'
import { ADMIN, setup } from '../testkit.js'

function hooks() {
  const t = setup()
  const call = (path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) =>
    t.app.request(`/v1/admin/accounts/acme/webhooks${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? ADMIN}` }) },
      ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    })
  const add = (url: unknown) => call('', { method: 'POST', body: { url } })
  return { ...t, call, add }
}

describe('webhook endpoints', () => {
  it('shows the secret once, at creation, and never in the list', async () => {
    const h = hooks()
    const res = await h.add('https://hooks.acme.test/tally')
    expect(res.status).toBe(201)
    const made = (await res.json()) as { id: string; secret: string }
    expect(made).toEqual({ account: 'acme', id: expect.stringMatching(/^we_[0-9a-f]{16}$/), url: 'https://hooks.acme.test/tally', secret: expect.stringMatching(/^whsec_/), created: '2026-07-20T12:00:00.000Z' })
    const list = await (await h.call('')).text()
    expect(list).not.toContain(made.secret)
    expect(JSON.parse(list)).toEqual({ account: 'acme', endpoints: [{ id: made.id, url: 'https://hooks.acme.test/tally', created: '2026-07-20T12:00:00.000Z' }] })
  })

  it.each([
    ['not a URL', 'hooks'], ['another scheme', 'ftp://hooks.acme.test/'], ['credentials', 'https://user:pw@hooks.acme.test/'],
    ['a number', 42], ['too long', `https://hooks.acme.test/${'x'.repeat(2048)}`],
  ])('refuses %s with 400 and stores nothing', async (_what, url) => {
    const h = hooks()
    expect((await h.add(url)).status).toBe(400)
    expect(h.count('SELECT count(*) AS n FROM webhook_endpoints')).toBe(0)
  })

  it('refuses an eleventh endpoint, and removes one with what it was still to get', async () => {
    const h = hooks()
    const ids: string[] = []
    for (let i = 0; i < 10; i++) ids.push(((await (await h.add(`https://hooks.acme.test/${i}`)).json()) as { id: string }).id)
    expect((await h.add('https://hooks.acme.test/11')).status).toBe(409)
    expect((await h.call('', { method: 'POST', body: {} })).status).toBe(400)
    expect((await h.call(`/${ids[0]}`, { method: 'DELETE' })).status).toBe(200)
    expect((await h.call(`/${ids[0]}`, { method: 'DELETE' })).status).toBe(404)
    expect(((await (await h.call('')).json()) as { endpoints: unknown[] }).endpoints).toHaveLength(9)
  })

  it('is for the admin token only, for an account that exists', async () => {
    const h = hooks()
    expect((await h.call('', { token: null })).status).toBe(401)
    expect((await h.call('', { token: 'sk_acme_secret' })).status).toBe(401)
    expect((await h.app.request('/v1/admin/accounts/nobody/webhooks', { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(404)
  })
})

describe('the delivery log', () => {
  it('pages newest event first without splitting an event across pages', async () => {
    const h = hooks()
    await h.add('https://a.acme.test/')
    await h.add('https://b.acme.test/')
    // Five events for two endpoints: ten deliveries, written as the outbox holds them.
    for (let i = 0; i < 5; i++) {
      h.store.db.prepare(`INSERT INTO webhook_events (account, seq, key, id, type, created, data) VALUES ('acme', ?, ?, ?, 'credits.purchased', ?, '{}')`)
        .run(i + 1, `k${i}`, `evt_${i}`, h.clock.now())
      h.store.db.prepare(`INSERT INTO webhook_deliveries (account, seq, endpoint, status, attempts, next_at)
        SELECT 'acme', ?, id, 'pending', 0, ? FROM webhook_endpoints WHERE account = 'acme'`).run(i + 1, h.clock.now())
    }
    const seen: string[] = []
    let before: number | null | undefined
    for (let page = 0; page < 10; page++) {
      const q = before === undefined ? '?limit=3' : `?limit=3&before=${before}`
      const body = (await (await h.call(`/deliveries${q}`)).json()) as { deliveries: { event: { id: string }; endpoint: string }[]; next: number | null }
      // Each page ends at an event's boundary: both endpoints of its last event are on it.
      const last = body.deliveries.at(-1)?.event.id
      expect(body.deliveries.filter((d) => d.event.id === last)).toHaveLength(2)
      seen.push(...body.deliveries.map((d) => `${d.event.id}@${d.endpoint}`))
      before = body.next
      if (before === null) break
    }
    expect(seen).toHaveLength(10)
    expect(new Set(seen).size).toBe(10)
    expect(seen.filter((_, i) => i % 2 === 0).map((s) => s.split('@')[0])).toEqual(['evt_4', 'evt_3', 'evt_2', 'evt_1', 'evt_0'])
  })

  it('refuses a bad limit, a bad cursor and an unknown parameter', async () => {
    const h = hooks()
    for (const q of ['?limit=0', '?limit=201', '?limit=x', '?before=0', '?before=-1', '?page=2']) {
      expect((await h.call(`/deliveries${q}`)).status).toBe(400)
    }
  })
})
