import { describe, expect, it } from 'vitest'
import { ADMIN, NOW, batch, impression, setup } from '../testkit.js'

const RK = { authorization: 'Bearer rk_acme_read' }

describe('GET /v1/rejections', () => {
  it('shows the account its refused beacons by reason and origin', async () => {
    const { app, post } = setup()
    await post(batch([impression()]), { origin: 'https://evil.test' })
    const res = await app.request('/v1/rejections', { headers: RK })
    expect(await res.json()).toEqual({
      account: 'acme',
      timezone: 'Europe/Amsterdam',
      since: new Date(NOW - 7 * 86_400_000).toISOString(),
      rejections: [
        {
          container: 'ctr_shop',
          reason: 'origin_not_allowed',
          origin: 'evil.test',
          subject: '',
          count: 1,
          firstSeen: new Date(Math.floor(NOW / 60_000) * 60_000).toISOString(),
          lastSeen: new Date(Math.floor(NOW / 60_000) * 60_000).toISOString(),
        },
      ],
      nextCursor: null,
    })
  })

  it('counts every refused event of a batch, by reason and subject, and lists each in the answer', async () => {
    const { app, post } = setup()
    const events = [
      impression('cmp_nope'),
      impression(),
      impression('cmp_nope', 's_2'),
      { id: 'x', type: 'impression' },
      impression('cmp_gone', 's_3'),
      impression('cmp_nope', 's_4'),
    ]
    const res = await post(batch(events))
    const body = (await res.json()) as { accepted: number; rejected: { index: number; code: string }[] }
    expect(body.accepted).toBe(1)
    expect(body.rejected).toEqual([
      { index: 0, code: 'unknown_campaign' },
      { index: 2, code: 'unknown_campaign' },
      { index: 3, code: 'invalid_event' },
      { index: 4, code: 'unknown_campaign' },
      { index: 5, code: 'unknown_campaign' },
    ])
    const rows = ((await (await app.request('/v1/rejections', { headers: RK })).json()) as { rejections: { reason: string; subject: string; count: number }[] })
      .rejections
    expect(rows.map((r) => [r.reason, r.subject, r.count]).sort()).toEqual([
      ['invalid_event', '', 1],
      ['unknown_campaign', 'cmp_gone', 1],
      ['unknown_campaign', 'cmp_nope', 3],
    ])
    const metrics = await (await app.request('/metrics')).text()
    expect(metrics).toContain('tally_events_total{result="rejected",reason="unknown_campaign"} 4')
    expect(metrics).toContain('tally_events_total{result="rejected",reason="invalid_event"} 1')
  })

  it.each(['1', '2026-02-30', 'yesterday', '2026-07-20T12:00'])(
    'refuses since=%s with 400 naming the parameter, for the account and the admin alike',
    async (since) => {
      const { app } = setup()
      for (const [path, auth] of [
        ['/v1/rejections', RK],
        ['/v1/admin/accounts/acme/rejections', { authorization: `Bearer ${ADMIN}` }],
      ] as const) {
        const res = await app.request(`${path}?since=${encodeURIComponent(since)}`, { headers: auth })
        expect(res.status).toBe(400)
        expect(await res.json()).toEqual({ error: { code: 'invalid_request', message: expect.stringMatching(/^since: /) } })
      }
    },
  )

  it('takes an ISO date or instant', async () => {
    const { app, post } = setup()
    await post(batch([impression()]), { origin: 'https://evil.test' })
    const rows = async (since: string) =>
      ((await (await app.request(`/v1/rejections?since=${since}`, { headers: RK })).json()) as { rejections: unknown[] }).rejections
    expect(await rows('2026-07-20')).toHaveLength(1)
    expect(await rows('2026-07-21T00:00:00Z')).toHaveLength(0)
  })

  it("reads a date as a day in the account's time zone, as the usage report does, and names the zone", async () => {
    const { app, post, clock } = setup()
    // 2026-07-21 00:30 in Amsterdam (UTC+2): already the 21st there, still the 20th in UTC.
    clock.set(Date.UTC(2026, 6, 20, 22, 30))
    await post(batch([impression()]), { origin: 'https://evil.test' })
    for (const [path, auth] of [
      ['/v1/rejections', RK],
      ['/v1/admin/accounts/acme/rejections', { authorization: `Bearer ${ADMIN}` }],
    ] as const) {
      const answer = async (since: string) =>
        (await app.request(`${path}?since=${since}`, { headers: auth })).json() as Promise<{ timezone: string; since: string; rejections: unknown[] }>
      const local = await answer('2026-07-21')
      expect(local).toMatchObject({ timezone: 'Europe/Amsterdam', since: '2026-07-20T22:00:00.000Z' })
      expect(local.rejections).toHaveLength(1)
      expect((await answer('2026-07-22')).rejections).toHaveLength(0)
      // An instant is itself, whatever the zone.
      expect(await answer('2026-07-20T22:31:00Z')).toMatchObject({ since: '2026-07-20T22:31:00.000Z', rejections: [] })
      // The same checks as the usage report's days: years 1970 to 9998.
      expect((await app.request(`${path}?since=1969-12-31`, { headers: auth })).status).toBe(400)
    }
  })
})
