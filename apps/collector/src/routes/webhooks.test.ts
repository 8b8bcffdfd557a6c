/** The webhook admin routes (docs/webhooks.md) through `app.request()`, with an in-memory store and no delivery loop. */
import { describe, expect, it } from 'vitest'
import { ADMIN, setup, testConfig } from '../testkit.js'

function hooks(opts: { allowPrivateNetworks?: boolean } = {}) {
  const t = setup(
    opts.allowPrivateNetworks === undefined ? {} : { config: testConfig({ server: { webhooks: { allowPrivateNetworks: opts.allowPrivateNetworks } } }) },
  )
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
    expect(made).toEqual({
      account: 'acme',
      id: expect.stringMatching(/^we_[0-9a-f]{16}$/),
      url: 'https://hooks.acme.test/tally',
      secret: expect.stringMatching(/^whsec_/),
      created: '2026-07-20T12:00:00.000Z',
    })
    const list = await (await h.call('')).text()
    expect(list).not.toContain(made.secret)
    expect(JSON.parse(list)).toEqual({
      account: 'acme',
      endpoints: [{ id: made.id, url: 'https://hooks.acme.test/tally', created: '2026-07-20T12:00:00.000Z' }],
    })
  })

  it.each([
    ['not a URL', 'hooks'],
    ['another scheme', 'ftp://hooks.acme.test/'],
    ['credentials', 'https://user:pw@hooks.acme.test/'],
    ['a number', 42],
    ['too long', `https://hooks.acme.test/${'x'.repeat(2048)}`],
  ])('refuses %s with 400 and stores nothing', async (_what, url) => {
    const h = hooks()
    expect((await h.add(url)).status).toBe(400)
    expect(h.count('SELECT count(*) AS n FROM webhook_endpoints')).toBe(0)
  })

  // Each as typed by the admin, then what the WHATWG URL parser makes of its host.
  const hostile: [string, string][] = [
    ['http://127.0.0.1/', '127.0.0.1'],
    ['http://127.8.9.10:8080/hooks', '127.8.9.10'],
    ['http://0177.0.0.1/', '127.0.0.1'], // octal
    ['http://2130706433/', '127.0.0.1'], // one number
    ['http://0x7f.1/', '127.0.0.1'], // hexadecimal, two parts
    ['http://127.1/', '127.0.0.1'],
    ['http://0.0.0.0/', '0.0.0.0'],
    ['http://0/', '0.0.0.0'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'], // cloud metadata
    ['http://10.1.2.3/', '10.1.2.3'],
    ['http://172.16.0.1/', '172.16.0.1'],
    ['http://172.31.255.255/', '172.31.255.255'],
    ['http://192.168.1.1/', '192.168.1.1'],
    ['http://100.64.0.1/', '100.64.0.1'],
    ['http://224.0.0.1/', '224.0.0.1'],
    ['http://255.255.255.255/', '255.255.255.255'],
    ['https://[::1]/', '::1'],
    ['http://[::]/', '::'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'], // IPv4-mapped
    ['http://[0:0:0:0:0:ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe'], // 169.254.169.254, mapped
    ['http://[::127.0.0.1]/', '::7f00:1'], // IPv4-compatible
    ['http://[64:ff9b::10.0.0.1]/', '64:ff9b::a00:1'], // NAT64 of 10.0.0.1
    ['http://[2002:7f00:1::1]/', '2002:7f00:1::1'], // 6to4 of 127.0.0.1
    ['http://[fc00::1]/', 'fc00::1'],
    ['http://[fd12:3456::1]/', 'fd12:3456::1'],
    ['http://[fe80::1]/', 'fe80::1'],
    ['http://[ff02::1]/', 'ff02::1'],
  ]
  it.each(hostile)('refuses %s (host %s) with 400 invalid_request naming url, and stores nothing', async (url, host) => {
    expect(new URL(url).hostname.replace(/^\[|\]$/g, '')).toBe(host)
    const h = hooks()
    const res = await h.add(url)
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('invalid_request')
    expect(body.error.message).toBe(
      `url: ${host} is not a public address (loopback, private, link-local, multicast or reserved); webhooks go to public addresses only`,
    )
    expect(h.count('SELECT count(*) AS n FROM webhook_endpoints')).toBe(0)
  })

  it.each(['http://localhost:8080/', 'http://LOCALHOST./', 'https://hooks.localhost/'])('refuses the loopback name %s', async (url) => {
    const h = hooks()
    const res = await h.add(url)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^url: .*localhost\.? names the loopback/)
    expect(h.count('SELECT count(*) AS n FROM webhook_endpoints')).toBe(0)
  })

  it('takes a loopback or private host only with server.webhooks.allowPrivateNetworks, and public ones either way', async () => {
    const closed = hooks({ allowPrivateNetworks: false })
    const open = hooks({ allowPrivateNetworks: true })
    for (const url of [...hostile.slice(0, 9).map(([u]) => u), 'http://localhost:8080/']) {
      expect((await closed.add(url)).status, url).toBe(400)
      expect((await open.add(url)).status, url).toBe(201)
    }
    for (const url of ['https://93.184.215.14/hooks', 'https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/', 'https://172.32.0.1/', 'https://hooks.acme.test/']) {
      expect((await closed.add(url)).status, url).toBe(201)
    }
    // The other checks stay.
    expect((await open.add('ftp://127.0.0.1/')).status).toBe(400)
    expect((await open.add('http://user:pw@127.0.0.1/')).status).toBe(400)
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
      h.store.db
        .prepare(`INSERT INTO webhook_events (account, seq, key, id, type, created, data) VALUES ('acme', ?, ?, ?, 'credits.purchased', ?, '{}')`)
        .run(i + 1, `k${i}`, `evt_${i}`, h.clock.now())
      h.store.db
        .prepare(`INSERT INTO webhook_deliveries (account, seq, endpoint, status, attempts, next_at)
        SELECT 'acme', ?, id, 'pending', 0, ? FROM webhook_endpoints WHERE account = 'acme'`)
        .run(i + 1, h.clock.now())
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
