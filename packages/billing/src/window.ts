/**
 * Settled periods and the billing window (docs/rules.md §5, "Settled periods"). A period is settled
 * once the recurring invoice two periods after it is finalized: that invoice saw all of the
 * period's late usage (usage is accepted at most `MAX_AGE_MS`, 72 hours, late, and a period lasts at
 * least 28 days), so nothing re-prices a settled period and nothing more is issued for it. Billing
 * reads and computes from the first unsettled period on, carrying what it needs from the finalized
 * invoices, so an account's read does not grow with its history (docs/performance.md).
 */
import { periodAt, periodByIndex, subscriptionEnd, type Period } from './period.js'
import type { BillingAccount } from './rating.js'
import type { UsageRow } from './meters.js'
import type { Invoice } from './invoice-types.js'
import { billedContacts } from './period-states.js'

/** What billing reads of an account: rows, credit entries and invoices from the first unsettled period on. */
export interface BillingWindow {
  /** The first unsettled period (0 when none is settled). */
  index: number
  /** Its first local day and first instant (usage rows from this day on, purchases from this instant on). */
  fromDay: string
  from: number
  /** Finalized invoices are read from this one's number on (every invoice issued in the window), when it exists. */
  firstKey: string
  /** The earlier finalized invoices it needs too: the first one (the minimum price) and the one before the window (contacts). */
  keys: string[]
}

/** The latest contacts reading before a day: its day and that day's highest count. */
export interface ContactsReading {
  day: string
  contacts: number
}

const RECURRING_KEY = /^recurring:(\d+)(?::late:\d+)?$/

/**
 * The highest `k` of the finalized recurring invoices (`recurring:k`, or its late invoices
 * `recurring:k:late:n`), or null when there is none.
 * @example lastRecurring(['recurring:0', 'credits:purchase:a', 'recurring:3']) // 3
 */
export function lastRecurring(keys: Iterable<string>): number | null {
  let last: number | null = null
  for (const key of keys) {
    const m = RECURRING_KEY.exec(key)
    if (m) last = Math.max(last ?? 0, Number(m[1]))
  }
  return last
}

/**
 * The window billing reads, given the highest finalized recurring invoice (`lastRecurring`): with
 * `recurring:k` finalized, periods up to `k - 2` are settled and the window starts at `k - 1`.
 * @example billingWindow(account, 5)?.index // 4
 * @example billingWindow(account, null)?.index // 0
 */
export function billingWindow(account: BillingAccount, last: number | null): BillingWindow {
  const index = Math.max(0, (last ?? 0) - 1)
  const p = periodByIndex(account.subscription, account.timezone, index)
  if (!p) return { index: 0, fromDay: '', from: Number.MIN_SAFE_INTEGER, firstKey: 'recurring:0', keys: [] }
  const keys = index > 0 ? [...new Set(['recurring:0', `recurring:${index - 1}`])] : []
  return { index, fromDay: p.startDate, from: p.start, firstKey: `recurring:${index}`, keys }
}

/**
 * The contacts paid entering the window's first period, as the chain of periods before it would
 * carry them (docs/rules.md §5, "Contacts"): the latest reading when it was made in the period
 * just before; else the count the finalized invoice of that period billed it in advance for; else
 * the latest reading before (one dated before the subscription started counts for nothing), or
 * the declared count. The first period of the window then takes the
 * count its own finalized invoice billed, if any (`statesOver`).
 */
export function contactsInto(
  account: BillingAccount,
  window: BillingWindow,
  finalized: readonly Invoice[] | undefined,
  reading: ContactsReading | null,
): number {
  const declared = account.subscription.contacts
  if (window.index === 0) return declared
  const prev = periodByIndex(account.subscription, account.timezone, window.index - 1)
  if (reading && prev && reading.day >= prev.startDate) return reading.contacts
  // A reading dated before the subscription started lies in no period: the chain never carries it.
  const first = periodByIndex(account.subscription, account.timezone, 0)
  const since = reading && first && reading.day >= first.startDate ? reading.contacts : undefined
  return billedContacts(finalized, window.index - 1) ?? since ?? declared
}

/**
 * The latest contacts reading before `day`: the later of the one given (read before a window) and
 * the rows before `day` (a whole history).
 */
export function readingBefore(usage: readonly UsageRow[], day: string, given: ContactsReading | null | undefined): ContactsReading | null {
  let out = given ?? null
  for (const r of usage) {
    if (r.contacts === undefined || r.day >= day) continue
    if (!out || r.day > out.day) out = { day: r.day, contacts: r.contacts }
    else if (r.day === out.day && r.contacts > out.contacts) out = { day: r.day, contacts: r.contacts }
  }
  return out
}

/** The last period that has started by `until` (the last one of a cancelled subscription after it ended), or null before the first. */
export function lastStarted(account: BillingAccount, until: number): Period | null {
  const sub = account.subscription
  const zone = account.timezone
  const p = periodAt(sub, zone, until)
  if (p) return p
  const end = subscriptionEnd(sub, zone)
  return end !== null && end <= until ? periodAt(sub, zone, end - 1) : null
}
