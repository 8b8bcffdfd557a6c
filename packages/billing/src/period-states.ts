/** The state of each period for invoicing (terms, meters, paid contacts), moved whole from ./invoice.ts. */
import { addDays, periodAt, periodOn } from './period.js'
import { addRow, emptyMeters, type UsageRow } from './meters.js'
import { contactRange, termsBetween, termsTimeline, type BillingAccount, type PeriodTerms, type Terms } from './rating.js'
import type { LedgerEntry } from './ledger.js'

import type { Invoice, BillingData, PeriodState, Rebalance } from './invoice.js'
/**
 * Every period that has started by `until`, with its terms, meters and paid contacts.
 * Contacts: seed 004 "During your first purchase, you have to define the number of contacts you are
 * going to pay for"; after that "The system counts the number of contacts in your database", so
 * each period pays for the previous period's maximum reading (or keeps the last paid count when
 * nothing was reported).
 */
export function periodStates(
  account: BillingAccount,
  data: Pick<BillingData, 'usage' | 'ledger' | 'finalized' | 'contactsBefore'>,
  until: number,
): PeriodState[] {
  const timeline: PeriodTerms[] = []
  for (const pt of termsTimeline(account)) {
    if (pt.period.start > until) break
    timeline.push(pt)
  }
  return statesOver(account, data, timeline)
}

/**
 * The state of the period in force at `at`, or null outside the subscription: `periodStates(...)`'s
 * entry for it, from the periods the data reaches back to only. A period before the first one
 * that the usage rows or the finalized recurring invoices touch has no readings and no billed
 * count, so it passes the subscription's contacts on unchanged: starting there gives the same
 * state. The email check hands it two periods of data, so it costs the same in month 100 as in
 * month 2 (docs/performance.md, "Periods").
 */
export function periodStateAt(
  account: BillingAccount,
  data: Pick<BillingData, 'usage' | 'ledger' | 'finalized' | 'contactsBefore'>,
  at: number,
): PeriodState | null {
  const sub = account.subscription
  const zone = account.timezone
  const period = periodAt(sub, zone, at)
  if (!period) return null
  let from = period.index
  let firstDay: string | null = null
  for (const r of data.usage) if (r.day >= sub.start && (firstDay === null || r.day < firstDay)) firstDay = r.day
  const first = firstDay === null ? null : periodOn(sub, zone, firstDay)
  if (first) from = Math.min(from, first.index)
  for (const i of data.finalized ?? []) {
    const m = /^recurring:(\d+)$/.exec(i.key)
    if (m) from = Math.min(from, Number(m[1]))
  }
  const states = statesOver(account, data, termsBetween(account, from, period))
  return states[states.length - 1] ?? null
}

/** The states of consecutive periods, the first taking the subscription's contacts (or its billed count). */
export function statesOver(
  account: BillingAccount,
  data: Pick<BillingData, 'usage' | 'ledger' | 'finalized' | 'contactsBefore'>,
  timeline: readonly PeriodTerms[],
): PeriodState[] {
  const starts = timeline.map((t) => t.period.startDate)
  const rowsOf: UsageRow[][] = timeline.map(() => [])
  for (const r of data.usage) {
    const i = bucket(starts, r.day)
    const pt = i >= 0 ? timeline[i] : undefined
    if (pt && r.day < pt.period.endDate) rowsOf[i]?.push(r)
  }
  const spendsOf: LedgerEntry[][] = timeline.map(() => [])
  const startsMs = timeline.map((t) => t.period.start)
  for (const e of data.ledger) {
    if (e.type !== 'spend') continue
    const i = bucket(startsMs, e.at)
    const pt = i >= 0 ? timeline[i] : undefined
    if (pt && e.at < pt.period.end) spendsOf[i]?.push(e)
  }
  const out: PeriodState[] = []
  let paid = data.contactsBefore ?? account.subscription.contacts
  timeline.forEach((pt, i) => {
    const rows = rowsOf[i] ?? []
    const m = emptyMeters()
    for (const r of rows) addRow(m, r)
    for (const e of spendsOf[i] ?? []) if (e.type === 'spend') m.credits[e.action] = (m.credits[e.action] ?? 0) + e.credits
    // The fee in advance takes the latest reading at the boundary, not the period's peak (whose
    // excess the period pays once, in arrears); a period without a reading keeps the count it had.
    const prev = out[i - 1]
    if (prev && prev.lastContacts !== null) paid = prev.lastContacts
    else if (prev) paid = prev.contactsEnd
    // A period billed in advance is paid for the count its finalized invoice priced, even if a late
    // reading of the period before would now give another: the excess is then charged in arrears.
    const billed = billedContacts(data.finalized, pt.period.index)
    if (billed !== undefined) paid = billed
    const contactsStart = paid
    const rebalances: PeriodState['rebalances'] = []
    if (pt.period.months > 1) {
      const daily = new Map<string, number>()
      for (const r of rows) if (r.contacts !== undefined) daily.set(r.day, Math.max(daily.get(r.day) ?? 0, r.contacts))
      // Rebalances already finalized are facts: the days from theirs on are paid at their count. A
      // reading dated before one of them (accepted late) charges only what they did not
      // (docs/rules.md §5): its segments credit what each stretch of days was already paid at.
      const steps = billedRebalances(data.finalized, pt.period.index)
      const days = [...new Set([...daily.keys(), ...steps.map((f) => f.day)])].sort()
      const rangeOf = (day: string, contacts: number) => contactRange(termsOn(pt, day).plan, contacts).index
      for (const day of days) {
        for (const f of steps) {
          if (f.day !== day || rangeOf(day, f.after) <= rangeOf(day, paid)) continue
          rebalances.push({
            day,
            before: paid,
            after: f.after,
            range: rangeOf(day, f.after),
            key: f.key,
            segments: [{ from: day, to: pt.period.endDate, paid }],
          })
          paid = f.after
        }
        const reading = daily.get(day)
        if (reading === undefined || rangeOf(day, reading) <= rangeOf(day, paid)) continue
        const range = rangeOf(day, reading)
        const segments: Rebalance['segments'] = []
        let from = day
        let at = paid
        for (const f of steps) {
          if (f.day <= day || rangeOf(f.day, f.after) <= rangeOf(f.day, at)) continue
          segments.push({ from, to: f.day, paid: at })
          from = f.day
          at = f.after
          if (rangeOf(f.day, at) >= range) break
        }
        if (rangeOf(from, at) < range) segments.push({ from, to: pt.period.endDate, paid: at })
        let key = `rebalance:${pt.period.index}:${range}`
        if (steps.some((f) => f.key === key)) key = `${key}:${day}`
        rebalances.push({ day, before: paid, after: reading, range, key, segments })
        paid = reading
      }
    }
    let lastContacts: number | null = null
    let lastDay = ''
    for (const r of rows) {
      if (r.contacts === undefined || r.day < lastDay) continue
      lastContacts = r.day === lastDay && lastContacts !== null ? Math.max(lastContacts, r.contacts) : r.contacts
      lastDay = r.day
    }
    out.push({ ...pt, meters: m, contactsStart, contactsEnd: paid, lastContacts, rebalances })
  })
  return out
}

/** The rebalances finalized for a period: the day and count each one raised the paid contacts to. */
function billedRebalances(finalized: readonly Invoice[] | undefined, index: number): { day: string; after: number; key: string }[] {
  const out: { day: string; after: number; key: string }[] = []
  for (const inv of finalized ?? []) {
    if (inv.kind !== 'rebalance' || inv.period?.index !== index) continue
    const charges = inv.lines.filter((l) => l.kind === 'contacts' && l.quantity > 0 && typeof l.contacts === 'number')
    if (charges.length === 0) continue
    const after = Math.max(...charges.map((l) => l.contacts ?? 0))
    const day = charges.map((l) => (typeof l.from === 'string' ? l.from : addDays(inv.issuedDate, -1))).sort()[0] ?? addDays(inv.issuedDate, -1)
    out.push({ day, after, key: inv.key })
  }
  return out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
}

/** The contact count the finalized recurring invoice of a period billed it in advance for, if any. */
export function billedContacts(finalized: readonly Invoice[] | undefined, index: number): number | undefined {
  const inv = finalized?.find((i) => i.key === `recurring:${index}`)
  const line = inv?.lines.find((l) => l.kind === 'contacts' && l.quantity > 0 && l.period.index === index)
  return typeof line?.contacts === 'number' ? line.contacts : undefined
}

/** The terms in force on a local day of the period. */
export function termsOn(pt: PeriodTerms, day: string): Terms {
  let t = pt.start
  for (const u of pt.upgrades) if (u.at <= day) t = u.after
  return t
}

/** Contacts paid for on a local day of the period (rebalances of earlier days included). */
export function contactsOn(ps: PeriodState, day: string): number {
  let c = ps.contactsStart
  for (const r of ps.rebalances) if (r.day < day) c = r.after
  return c
}

/** Index of the last sorted key <= value, or -1 (local days as strings, instants as numbers). */
export function bucket<T extends string | number>(keys: readonly T[], value: T): number {
  let lo = 0
  let hi = keys.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if ((keys[mid] as T) <= value) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}
