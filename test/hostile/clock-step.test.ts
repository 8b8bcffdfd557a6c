/**
 * The clock steps back an hour (an NTP correction, a VM restored from a snapshot): nothing is
 * counted or invoiced twice. Events already stored stay duplicates whatever the clock says, and
 * a billing run after the step finds the invoices it finalized before it. In process, with the
 * manual clock.
 */
import { describe, expect, it } from 'vitest'
import { ADMIN, batch, impression, setup } from '../../apps/collector/src/testkit.js'

const HOUR = 3_600_000
/** The first monthly period of testConfig's acme (start 2026-07-12, Europe/Amsterdam) ends 2026-08-12 00:00 local. */
const PERIOD_END = Date.UTC(2026, 7, 11, 22, 0, 0)

describe('a clock step back of one hour', () => {
  it('bills nothing twice: units stay duplicates, invoices stay one per period', async () => {
    const s = setup()
    const run = async () => {
      const res = await s.app.request('/v1/admin/billing/run', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: '{}',
      })
      expect(res.status).toBe(200)
      return s.count('SELECT COUNT(*) AS n FROM invoices')
    }
    const units = () => s.count('SELECT COALESCE(SUM(units), 0) AS n FROM rollups')
    const sendAt = (events: unknown[]) => s.post(batch(events, s.clock.now()))

    s.clock.set(PERIOD_END - 2 * HOUR)
    const events = [impression('cmp_summer', 's_a', 'ev_a', s.clock.now()), impression('cmp_winter', 's_a', 'ev_b', s.clock.now())]
    expect(await (await sendAt(events)).json()).toEqual({ accepted: 2, duplicates: 0, rejected: [] })

    s.clock.advance(2 * HOUR + 30 * 60_000)
    const invoices = await run()
    expect(invoices).toBeGreaterThan(0)
    const counted = units()

    // The step back: the same events again, and the same billing run.
    s.clock.advance(-HOUR)
    const again = [impression('cmp_summer', 's_a', 'ev_a', s.clock.now()), impression('cmp_winter', 's_a', 'ev_b', s.clock.now())]
    expect(await (await sendAt(again)).json()).toEqual({ accepted: 0, duplicates: 2, rejected: [] })
    expect(await run()).toBe(invoices)
    // And forward past where it was: still one invoice per period.
    s.clock.advance(2 * HOUR)
    expect(await run()).toBe(invoices)
    expect(units()).toBe(counted)
  })
})
