import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { DateTime } from 'luxon'
import type { Cycle } from '@tally/protocol'
import {
  addDays,
  addMonthsClamped,
  allPeriods,
  daysBetween,
  periodAt,
  periods,
  startOfDay,
  subscriptionEnd,
  type BillingSubscription,
  type Period,
} from './period.js'

const CYCLES: Cycle[] = ['monthly', 'quarterly', 'semiannual', 'annual']
const MONTHS: Record<Cycle, number> = { monthly: 1, quarterly: 3, semiannual: 6, annual: 12 }
const ZONES = ['UTC', 'Europe/Amsterdam']

function sub(start: string, cycle: Cycle = 'monthly', extra: Partial<BillingSubscription> = {}): BillingSubscription {
  return { plan: 'growth', cycle, start, seats: 1, contacts: 0, ...extra }
}
function first(s: BillingSubscription, zone: string, n: number): Period[] {
  const out: Period[] = []
  for (const p of allPeriods(s, zone)) {
    if (out.length === n) break
    out.push(p)
  }
  return out
}
/** The clamped anniversary computed independently of the code under test, by luxon. */
function expectedStart(anchor: string, months: number): string {
  return DateTime.fromISO(anchor, { zone: 'UTC' }).plus({ months }).toISODate() ?? ''
}

describe('anniversary periods', () => {
  it('renews a subscription bought on July 12 on August 12 (seed 004)', () => {
    const [p0, p1] = first(sub('2026-07-12'), 'Europe/Amsterdam', 2)
    expect(p0?.startDate).toBe('2026-07-12')
    expect(p0?.endDate).toBe('2026-08-12')
    expect(p1?.startDate).toBe('2026-08-12')
    expect(p1?.endDate).toBe('2026-09-12')
  })

  it.each([
    ['2027-01-31', ['2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31', '2027-06-30']],
    ['2028-01-31', ['2028-01-31', '2028-02-29', '2028-03-31', '2028-04-30', '2028-05-31', '2028-06-30']],
    ['2028-02-29', ['2028-02-29', '2028-03-29', '2028-04-29', '2028-05-29', '2028-06-29', '2028-07-29']],
    ['2026-08-30', ['2026-08-30', '2026-09-30', '2026-10-30', '2026-11-30', '2026-12-30', '2027-01-30']],
  ])('clamps an anchor on %s to short months and returns to the anchor day after', (anchor, starts) => {
    expect(first(sub(anchor), 'UTC', 6).map((p) => p.startDate)).toEqual(starts)
  })

  it.each([
    ['2028-02-29', 'annual', ['2028-02-29', '2029-02-28']],
    ['2027-11-30', 'quarterly', ['2027-11-30', '2028-02-29']],
    ['2027-08-31', 'semiannual', ['2027-08-31', '2028-02-29']],
  ] as const)('derives a %s %s term end from the anchor', (anchor, cycle, [start, end]) => {
    const [p] = first(sub(anchor, cycle), 'UTC', 1)
    expect([p?.startDate, p?.endDate]).toEqual([start, end])
  })

  it('continues monthly from the same anchor when an annual term ends (seed 004)', () => {
    const ps = first(sub('2026-01-31', 'annual'), 'UTC', 4)
    expect(ps.map((p) => [p.cycle, p.startDate, p.endDate])).toEqual([
      ['annual', '2026-01-31', '2027-01-31'],
      ['monthly', '2027-01-31', '2027-02-28'],
      ['monthly', '2027-02-28', '2027-03-31'],
      ['monthly', '2027-03-31', '2027-04-30'],
    ])
  })

  it('starts a new long term when one is bought before the boundary', () => {
    const s = sub('2026-07-12', 'quarterly', { changes: [{ at: '2026-09-01', cycle: 'annual' }] })
    expect(first(s, 'UTC', 3).map((p) => [p.cycle, p.startDate])).toEqual([
      ['quarterly', '2026-07-12'],
      ['annual', '2026-10-12'],
      ['monthly', '2027-10-12'],
    ])
  })

  it('ends a cancelled subscription at the end of the period holding the cancellation', () => {
    const s = sub('2026-07-12', 'monthly', { cancelledAt: '2026-09-20' })
    const all = [...allPeriods(s, 'UTC')]
    expect(all.map((p) => p.startDate)).toEqual(['2026-07-12', '2026-08-12', '2026-09-12'])
    expect(all.at(-1)?.last).toBe(true)
    expect(subscriptionEnd(s, 'UTC')).toBe(Date.UTC(2026, 9, 12))
    expect(periodAt(s, 'UTC', Date.UTC(2026, 9, 12) - 1)?.index).toBe(2)
    expect(periodAt(s, 'UTC', Date.UTC(2026, 9, 12))).toBeNull()
  })

  it('serves a cancelled annual term to its end', () => {
    const s = sub('2026-07-12', 'annual', { cancelledAt: '2026-08-01' })
    expect([...allPeriods(s, 'UTC')].map((p) => [p.startDate, p.endDate])).toEqual([['2026-07-12', '2027-07-12']])
  })

  it('starts periods at local midnight in the account zone, across DST changes', () => {
    const ps = first(sub('2026-03-12'), 'Europe/Amsterdam', 8)
    // March 12 is in winter time (UTC+1), April 12 in summer time (UTC+2), November 12 in winter again.
    expect(ps[0]?.start).toBe(Date.UTC(2026, 2, 11, 23))
    expect(ps[0]?.end).toBe(Date.UTC(2026, 3, 11, 22))
    expect(ps[7]?.end).toBe(Date.UTC(2026, 10, 11, 23))
    expect(ps[0]?.days).toBe(31)
    // 31 calendar days, but one hour short: the day of the change to summer time has 23 hours.
    expect((ps[0]?.end ?? 0) - (ps[0]?.start ?? 0)).toBe(31 * 86_400_000 - 3_600_000)
  })

  it('finds the period of an instant and none before the anchor', () => {
    const s = sub('2026-07-12')
    expect(periodAt(s, 'Europe/Amsterdam', Date.UTC(2026, 7, 11, 21, 59))?.startDate).toBe('2026-07-12')
    expect(periodAt(s, 'Europe/Amsterdam', Date.UTC(2026, 7, 11, 22, 0))?.startDate).toBe('2026-08-12')
    expect(periodAt(s, 'Europe/Amsterdam', Date.UTC(2026, 6, 11, 21, 59))).toBeNull()
    expect(periods(s, 'UTC', Date.UTC(2026, 7, 1), Date.UTC(2026, 9, 1)).map((p) => p.startDate)).toEqual(['2026-07-12', '2026-08-12', '2026-09-12'])
  })
})

describe('calendar days', () => {
  it.each([
    ['2027-03-31', -21, '2027-03-10'],
    ['2028-02-28', 1, '2028-02-29'],
    ['2026-12-31', 1, '2027-01-01'],
    ['2027-07-12', -284, '2026-10-01'],
  ])('moves %s by %i days to %s', (date, days, expected) => {
    expect(addDays(date, days)).toBe(expected)
    expect(daysBetween(date, expected)).toBe(days)
  })
})

describe('golden matrix: anchors x cycles x 3 years x zones', () => {
  const anchors = ['2026-01-01', '2026-01-15', '2026-01-28', '2026-01-29', '2026-01-30', '2026-01-31', '2026-03-31', '2028-02-29', '2027-12-31']
  const cases = anchors.flatMap((anchor) => CYCLES.flatMap((cycle) => ZONES.map((zone) => [anchor, cycle, zone] as const)))

  it.each(cases)('anchor %s, %s, %s: terms renewed for 3 years tile time on clamped anchor days', (anchor, cycle, zone) => {
    const m = MONTHS[cycle]
    const renewals = Array.from({ length: 36 / m }, (_, k) => ({ at: expectedStart(anchor, (k + 1) * m), cycle }))
    const s = sub(anchor, cycle, { changes: renewals })
    checkTiling(s, zone, anchor, 36 / m, m)
  })

  it.each(cases)('anchor %s, %s, %s: one term then monthly tiles 3 years', (anchor, cycle, zone) => {
    const m = MONTHS[cycle]
    checkTiling(sub(anchor, cycle), zone, anchor, 1 + (36 - m), null)
  })

  function checkTiling(s: BillingSubscription, zone: string, anchor: string, count: number, months: number | null) {
    const ps = first(s, zone, count)
    expect(ps).toHaveLength(count)
    const anchorDay = Number(anchor.slice(8, 10))
    let offset = 0
    ps.forEach((p, i) => {
      expect(p.index).toBe(i)
      if (months !== null) expect(p.months).toBe(months)
      expect(p.startDate).toBe(expectedStart(anchor, offset))
      const local = DateTime.fromMillis(p.start, { zone })
      expect(local.toISODate()).toBe(p.startDate)
      expect([local.hour, local.minute, local.second]).toEqual([0, 0, 0])
      const dim = local.daysInMonth ?? 0
      expect(local.day).toBe(Math.min(anchorDay, dim))
      expect(p.start).toBe(DateTime.fromISO(p.startDate, { zone }).toMillis())
      expect(p.end).toBeGreaterThan(p.start)
      expect(p.days).toBe(Math.round(DateTime.fromISO(p.endDate, { zone: 'UTC' }).diff(DateTime.fromISO(p.startDate, { zone: 'UTC' }), 'days').days))
      const next = ps[i + 1]
      if (next) {
        expect(next.start).toBe(p.end)
        expect(next.startDate).toBe(p.endDate)
      }
      expect(periodAt(s, zone, p.start)?.index).toBe(i)
      expect(periodAt(s, zone, p.end - 1)?.index).toBe(i)
      offset += p.months
    })
    expect(offset).toBe(36)
    expect(ps.at(-1)?.endDate).toBe(expectedStart(anchor, 36))
  }
})

describe('period properties', () => {
  const date = fc
    .date({ min: new Date(Date.UTC(1990, 0, 1)), max: new Date(Date.UTC(2060, 0, 1)), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10))
  const zone = fc.constantFrom('UTC', 'Europe/Amsterdam', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'America/Sao_Paulo')
  const cycle = fc.constantFrom<Cycle>(...CYCLES)

  it('tiles time: consecutive periods meet, each instant lies in exactly the period periodAt names', () => {
    fc.assert(
      fc.property(
        date,
        cycle,
        zone,
        fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), cycle), { maxLength: 4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (anchor, c, z, renewals, where) => {
          const s = sub(anchor, c, { changes: renewals.map(([k, cy]) => ({ at: addMonthsClamped(anchor, k), cycle: cy })) })
          const ps = first(s, z, 40)
          for (let i = 1; i < ps.length; i++) expect(ps[i]?.start).toBe(ps[i - 1]?.end)
          for (const p of ps) {
            expect(p.start).toBe(startOfDay(p.startDate, z))
            expect(p.days).toBe(daysBetween(p.startDate, p.endDate))
            expect(p.startDate).toBe(expectedStart(anchor, p.offset))
          }
          const lo = ps[0]?.start ?? 0
          const hi = ps.at(-1)?.end ?? 0
          const t = Math.floor(lo + where * (hi - lo - 1))
          const p = periodAt(s, z, t)
          expect(p && p.start <= t && t < p.end).toBe(true)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('zones with two local midnights (docs/billing.md, Periods)', () => {
  // America/Havana goes back from 01:00 CDT to 00:00 CST on the first Sunday of November: Nov 1,
  // 2026 starts at 00:00 CDT (04:00Z), and midnight comes again at 05:00Z. Atlantic/Azores goes back
  // from 01:00 to 00:00 on the last Sunday of October: Oct 25, 2026 starts at 00:00Z, again at 01:00Z.
  it.each([
    ['America/Havana', '2026-10-01', '2026-11-01', Date.UTC(2026, 10, 1, 4)],
    ['Atlantic/Azores', '2026-09-25', '2026-10-25', Date.UTC(2026, 9, 25, 0)],
  ])('in %s every local date starts at its first instant, for periods, months and days alike', async (zone, start, day, first) => {
    const { monthSliceAt, localDate } = await import('./period.js')
    expect(startOfDay(day, zone)).toBe(first)
    // The instant before it is still the day before; the hour after it is the new day, period and month.
    expect(localDate(first - 1, zone)).not.toBe(day)
    const s = sub(start)
    for (const t of [first, first + 30 * 60_000, first + 3_600_000 + 30 * 60_000]) {
      expect(localDate(t, zone)).toBe(day)
      expect(periodAt(s, zone, t)?.startDate).toBe(day)
      expect(monthSliceAt(s, zone, t)?.startDate).toBe(day)
    }
    expect(periodAt(s, zone, first - 1)?.startDate).toBe(start)
    expect(monthSliceAt(s, zone, first - 1)?.startDate).toBe(start)
  })
})
