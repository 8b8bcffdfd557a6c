/**
 * A forger who rotates session ids from one address cannot make a vendor pay for more than
 * `server.sessionsPerHour` sessions per container per hour from it (docs/security.md): the units
 * of the sessions beyond that are stored, shown as `suspicious`, and never billed.
 */
import { describe, expect, it } from 'vitest'
import { NOW, ORIGIN, batch, chat, impression, nextId, setup, testConfig } from '../../apps/collector/src/testkit.js'

const RK = { authorization: 'Bearer rk_acme_read' }
const CAP = 5

function capped() {
  const s = setup({ config: testConfig({ server: { sessionsPerHour: CAP } }) })
  const from = (remote: string, events: unknown[]) =>
    s.app.request(
      '/v1/containers/ctr_shop/events',
      { method: 'POST', headers: { origin: ORIGIN }, body: JSON.stringify(batch(events, s.clock.now())) },
      { incoming: { socket: { remoteAddress: remote } } },
    )
  const billed = async () => (await s.store.billingData('acme')).usage.reduce((n, u) => n + (u.impressions ?? 0) + (u.chatSessions ?? 0), 0)
  const usage = async () => (await (await s.app.request('/v1/usage?from=2026-07-20&to=2026-07-20', { headers: RK })).json()).rows[0]
  return { ...s, from, billed, usage }
}

describe('sessions over the per-address cap', () => {
  it('are stored and shown as suspicious but not billed: 40 forged sessions from one address bill 5', async () => {
    const s = capped()
    for (let i = 0; i < 40; i++) {
      const res = await s.from('203.0.113.7', [impression('cmp_summer', `forged_${i}`)])
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    }
    expect(s.count('SELECT COUNT(*) AS n FROM impressions')).toBe(40)
    expect(await s.billed()).toBe(CAP)
    expect(await s.usage()).toMatchObject({ impressions: CAP, suspicious: 40 - CAP })
    const refused = (await (await s.app.request('/v1/rejections', { headers: RK })).json()).rejections
    expect(refused).toEqual([expect.objectContaining({ container: 'ctr_shop', reason: 'suspicious', origin: 'shop.acme.test', count: 40 - CAP })])
  })

  it('shows suspicious units under the campaign they name', async () => {
    const s = capped()
    for (let i = 0; i < CAP + 2; i++) await s.from('203.0.113.7', [impression('cmp_winter', `forged_${i}`)])
    const rows = (await (await s.app.request('/v1/usage?from=2026-07-20&to=2026-07-20&groupBy=campaign', { headers: RK })).json()).rows
    expect(rows).toEqual([expect.objectContaining({ campaign: 'cmp_winter', impressions: CAP, suspicious: 2 })])
  })

  it('leave other addresses, and a real visitor of the same address already admitted, billed as before', async () => {
    const s = capped()
    await s.from('203.0.113.7', [impression('cmp_summer', 'visitor')])
    for (let i = 0; i < 20; i++) await s.from('203.0.113.7', [impression('cmp_summer', `forged_${i}`)])
    // The visitor's later units in the hour are billed; so are another address's.
    await s.from('203.0.113.7', [impression('cmp_winter', 'visitor')])
    await s.from('198.51.100.1', [impression('cmp_summer', 'neighbour')])
    expect(await s.usage()).toMatchObject({ impressions: CAP + 2, suspicious: 20 - (CAP - 1) })
  })

  it('counts an IPv6 client by its /64', async () => {
    const s = capped()
    for (let i = 0; i < 10; i++) await s.from(`2001:db8:1:2::${(i + 1).toString(16)}`, [impression('cmp_summer', `forged_${i}`)])
    expect(await s.usage()).toMatchObject({ impressions: CAP, suspicious: 10 - CAP })
  })

  it('allows the cap again in the next hour', async () => {
    const s = capped()
    for (let i = 0; i < CAP + 3; i++) await s.from('203.0.113.7', [impression('cmp_summer', `a_${i}`)])
    s.clock.advance(3_600_000)
    for (let i = 0; i < CAP + 3; i++) await s.from('203.0.113.7', [impression('cmp_summer', `b_${i}`, nextId(), NOW + 3_600_000)])
    const rows = (await (await s.app.request('/v1/usage?from=2026-07-20&to=2026-07-20', { headers: RK })).json()).rows
    expect(rows[0]).toMatchObject({ impressions: 2 * CAP, suspicious: 6 })
  })

  it('bills no chat session of a conversation opened by a suspicious session, however long it runs', async () => {
    const s = capped()
    for (let i = 0; i < CAP; i++) await s.from('203.0.113.7', [impression('cmp_summer', `fill_${i}`)])
    const talk = (phase: string, ts: number) => ({ ...chat(phase, ts, 'conv_forged'), session: 'forged_chat' })
    await s.from('203.0.113.7', [talk('start', NOW - 10 * 60_000), talk('ping', NOW - 5 * 60_000)])
    // Later in the hour, the same session goes on talking.
    s.clock.advance(60_000)
    const later = await s.from('203.0.113.7', [talk('ping', NOW + 30_000), talk('end', NOW + 60_000)])
    expect(await later.json()).toEqual({ accepted: 2, duplicates: 0, rejected: [] })
    expect(s.count('SELECT COUNT(*) AS n FROM chat_events')).toBe(4)
    const u = await s.usage()
    expect(u.chatSessions).toBe(0)
    expect(u.suspicious).toBeGreaterThanOrEqual(1)
    expect(await s.billed()).toBe(CAP)
  })
})
