/**
 * Invoices. At each period boundary one recurring invoice: the new period's fees in advance and the
 * closed period's usage in arrears (docs/rules.md §5). Between boundaries: an upgrade invoice (prorated by
 * days over the whole period), a rebalance invoice when contacts grow past the paid range within a
 * long term (seed 004: "If the number of contacts grows beyond the one you declared in your
 * payment, you will get the rebalance invoice for additional contacts"), and one invoice per credit
 * pack bought.
 *
 * Minimum price (seed 004: "your first payment in the system is considered as your 'minimum price'
 * ... it cannot be lower than the price on your first invoice"): a recurring invoice whose own lines
 * total less than the first recurring invoice (per month of the period billed in advance) gets a
 * true-up line; adjustment lines for earlier periods are not its own and are left out (Lago F08).
 *
 * Everything is derived from the inputs, so a preview is the same computation as the invoice the
 * run finalizes (Lago F84/F99). A finalized invoice is taken as given and never recomputed; usage
 * that arrives after a period was billed becomes an adjustment line on the next recurring invoice.
 *
 * An invoice with no line at all is not issued (a cancelled account's last boundary with no usage
 * to bill); one whose lines sum to 0 is, since its lines record what changed. Invoice keys never
 * depend on position: an upgrade invoice is keyed by its period and the content of the change that
 * made it, so a change back-dated before it cannot shift its key.
 */
import type { Plan } from '@tally/protocol'
import { lineAmount, sum } from './money.js'
import { addDays, daysBetween, localDate, monthSliceAt, nextDay, periodAt, periodByIndex, periodOn, startOfDay, type Period, type SubscriptionChange } from './period.js'
import { addRow, emailQuota, emptyMeters, type Meters, type UsageRow } from './meters.js'
import {
  contactRange, contactRangeLine, contactsExcessLine, discountFor, periodRef, priced, recurringLines, termsBetween, termsTimeline, usageLines,
  type BillingAccount, type InvoiceLine, type PeriodRef, type PeriodTerms, type Terms,
} from './rating.js'
import { replay, balances, creditsDue, type Balances, type LedgerEntry, type PurchaseEntry } from './ledger.js'

export type InvoiceKind = 'recurring' | 'upgrade' | 'rebalance' | 'credits' | 'emails'

/**
 * An invoice; `key` names it stably: `recurring:3`, `upgrade:3:2027-03-10:plan=pro` (see
 * `upgradeKey`), `rebalance:3:2` (period 3, contact range 2), `credits:<purchase id>`.
 */
export interface Invoice {
  key: string
  kind: InvoiceKind
  status: 'draft' | 'finalized'
  /** Gap-free per account, given when finalized. */
  number: number | null
  currency: string
  /** When it is due to be issued (UTC milliseconds) and that day in the account's zone. */
  issuedAt: number
  issuedDate: string
  /** The period it is for: the one billed in advance, else the one it belongs to. */
  period: PeriodRef | null
  lines: InvoiceLine[]
  total: number
  /**
   * The unit of every amount of the invoice and its lines: integer minor units of `currency`
   * (cents for EUR), in JSON, CSV and PDF alike.
   */
  amountUnit: 'minor'
  /**
   * The configuration versions that priced it (the collector's, docs/configuration.md): the
   * account's and its plan's, as `GET /v1/admin/accounts/{id}/history` lists them.
   */
  pricedBy?: { account: number; plan: number | null } | undefined
  /**
   * The invoice information in force when it was issued (company, address, tax id, billing
   * e-mail), set when the invoice is finalized; absent when the account gave none. An invoice keeps
   * what it was issued with: a later change prints on later invoices only.
   */
  billTo?: BillTo | undefined
}

/** Who an invoice is issued to, as the account's manager wrote it. */
export interface BillTo { company: string; address: string; taxId: string; email: string }

/** What the collector stored for an account. */
export interface BillingData {
  /** Daily rollup rows (local days of the account's zone). */
  usage: readonly UsageRow[]
  /** The credit log. */
  ledger: readonly LedgerEntry[]
  /** Invoices already finalized; they are never recomputed. */
  finalized?: readonly Invoice[] | undefined
  /** Extra emails granted by support, each for one month of the anchor calendar (its first local day). */
  emailGrants?: readonly EmailGrant[] | undefined
  /**
   * The latest contacts reading before the first day of `usage`, when `usage` is a window of the
   * account's rows (the email check's, `emailWindow`): what the paid contacts carry into it.
   */
  contactsBefore?: number | null | undefined
}

/**
 * Emails granted on top of the quota for the month of the anchor calendar that starts on `month`:
 * by support (free), or an email pack bought (`pack`), which is invoiced like a credit pack.
 */
export interface EmailGrant {
  month: string
  emails: number
  /** The grant's or purchase's id (the invoice key of a pack: `emails:<id>`). */
  id?: string
  /** When it was granted or bought. */
  at?: number
  pack?: { name: string; price: number; currency: string } | undefined
}

/** The email allowance of a month: `left = max(0, quota + granted - sent)`. */
export interface EmailAllowance {
  quota: number
  granted: number
  sent: number
  left: number
}

/** A period with its terms, meters and paid contacts, as billing sees it. */
export interface PeriodState extends PeriodTerms {
  meters: Meters
  /** Contacts paid for at the start (the first purchase, then the previous period's maximum reading). */
  contactsStart: number
  /** Contacts paid for at the end (raised by rebalances within a long term). */
  contactsEnd: number
  /** The period's latest contacts reading (its last day's highest), or null without one. */
  lastContacts: number | null
  rebalances: Rebalance[]
}

/**
 * A rise of the paid contacts within a long term, invoiced from `day` to the term's end: one credit
 * and one charge per segment, each segment a stretch of days already paid at `paid` contacts.
 */
export interface Rebalance {
  day: string
  before: number
  after: number
  range: number
  /** The invoice key: `rebalance:<period>:<range>`, with `:<day>` when a finalized one has that key. */
  key: string
  segments: { from: string; to: string; paid: number }[]
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

const KIND_ORDER: Record<InvoiceKind, number> = { rebalance: 0, upgrade: 1, recurring: 2, credits: 3, emails: 4 }

/**
 * The key of the upgrade invoice a change makes in period `index`: the period, the change's day and
 * what the change itself sets, never its position among the changes, so that a change back-dated
 * before it leaves the key of an already finalized upgrade invoice alone. Ids cannot hold `=`, so
 * the parts cannot run into each other.
 * @example upgradeKey(5, { at: '2026-12-22', plan: 'pro' }) // 'upgrade:5:2026-12-22:plan=pro'
 * @example upgradeKey(2, { at: '2026-09-01', seats: 4, products: ['push', 'data'] }) // 'upgrade:2:2026-09-01:seats=4:products=data+push'
 */
export function upgradeKey(index: number, change: SubscriptionChange): string {
  const parts = [`upgrade:${index}:${change.at}`]
  if (change.plan !== undefined) parts.push(`plan=${change.plan}`)
  if (change.seats !== undefined) parts.push(`seats=${change.seats}`)
  if (change.products !== undefined) parts.push(`products=${[...new Set(change.products)].sort().join('+')}`)
  return parts.join(':')
}

/** Upgrade invoices finalized under the positional keys of earlier versions (`upgrade:3:0`). */
const LEGACY_UPGRADE_KEY = /^upgrade:\d+:\d+$/

/**
 * Every period that has started by `until`, with its terms, meters and paid contacts.
 * Contacts: seed 004 "During your first purchase, you have to define the number of contacts you are
 * going to pay for"; after that "The system counts the number of contacts in your database", so
 * each period pays for the previous period's maximum reading (or keeps the last paid count when
 * nothing was reported).
 */
export function periodStates(
  account: BillingAccount, data: Pick<BillingData, 'usage' | 'ledger' | 'finalized' | 'contactsBefore'>, until: number,
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
  account: BillingAccount, data: Pick<BillingData, 'usage' | 'ledger' | 'finalized' | 'contactsBefore'>, at: number,
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
function statesOver(
  account: BillingAccount, data: Pick<BillingData, 'usage' | 'ledger' | 'finalized' | 'contactsBefore'>, timeline: readonly PeriodTerms[],
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
          rebalances.push({ day, before: paid, after: f.after, range: rangeOf(day, f.after), key: f.key, segments: [{ from: day, to: pt.period.endDate, paid }] })
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

/** The contact count the finalized recurring invoice of a period billed it in advance for, if any. */
function billedContacts(finalized: readonly Invoice[] | undefined, index: number): number | undefined {
  const inv = finalized?.find((i) => i.key === `recurring:${index}`)
  const line = inv?.lines.find((l) => l.kind === 'contacts' && l.quantity > 0 && l.period.index === index)
  return typeof line?.contacts === 'number' ? line.contacts : undefined
}

/** The terms in force on a local day of the period. */
function termsOn(pt: PeriodTerms, day: string): Terms {
  let t = pt.start
  for (const u of pt.upgrades) if (u.at <= day) t = u.after
  return t
}

/** Contacts paid for on a local day of the period (rebalances of earlier days included). */
function contactsOn(ps: PeriodState, day: string): number {
  let c = ps.contactsStart
  for (const r of ps.rebalances) if (r.day < day) c = r.after
  return c
}

/** Index of the last sorted key <= value, or -1 (local days as strings, instants as numbers). */
function bucket<T extends string | number>(keys: readonly T[], value: T): number {
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

function invoice(
  account: BillingAccount, key: string, kind: InvoiceKind, currency: string, issuedAt: number, period: Period | null, lines: InvoiceLine[],
): Invoice {
  return {
    key, kind, status: 'draft', number: null, currency, issuedAt, issuedDate: localDate(issuedAt, account.timezone),
    period: period ? periodRef(period) : null, lines, total: sum(lines.map((l) => l.amount)), amountUnit: 'minor',
  }
}

/** What a closed period's usage costs now: usage lines and the contacts excess, by meter. */
function arrears(ps: PeriodState): InvoiceLine[] {
  const plan = ps.end.plan
  const lines = usageLines(plan, ps.period, ps.meters)
  const excess = contactsExcessLine(plan, ps.period, ps.contactsEnd, ps.meters.contacts)
  if (excess) lines.push(excess)
  return lines
}

const ARREARS_KINDS = new Set(['usage', 'contacts_excess', 'adjustment'])
const RECURRING_KINDS = new Set(['base', 'seats', 'product', 'contacts'])

/**
 * The recurring fees of a first invoice per month, before the cycle discount: the sum of its
 * recurring lines' `quantity x unitPrice` (unit prices are per month). What the minimum price
 * compares a later period's fees with, month for month and less the same discount.
 * @example monthlyFees(first) // 9400 for base 4900 + 3 seats x 1500 + contacts 0, on any cycle
 */
function monthlyFees(first: Invoice): number {
  return sum(first.lines.filter((l) => RECURRING_KINDS.has(l.kind) && l.proration === null && l.period.index === 0).map((l) => l.quantity * l.unitPrice))
}

/**
 * Every invoice issued by `until`, in issue order: the finalized ones as given, the others as drafts.
 * This one computation serves the billing run, the preview and the read API.
 */
export function computeInvoices(account: BillingAccount, data: BillingData, until: number): Invoice[] {
  const finalized = new Map((data.finalized ?? []).map((i) => [i.key, i]))
  // Upgrade invoices finalized under a positional key are matched by their period and day.
  const legacy = new Map<string, Invoice[]>()
  for (const inv of data.finalized ?? []) {
    if (inv.kind !== 'upgrade' || !LEGACY_UPGRADE_KEY.test(inv.key)) continue
    const at = `${inv.period?.index}:${inv.issuedDate}`
    legacy.set(at, [...(legacy.get(at) ?? []), inv])
  }
  const given = (draft: Invoice): Invoice | undefined => {
    const known = finalized.get(draft.key)
    if (known || draft.kind !== 'upgrade') return known
    return legacy.get(`${draft.period?.index}:${draft.issuedDate}`)?.shift()
  }
  const states = periodStates(account, data, until)
  const out: Invoice[] = []
  const keep = (draft: Invoice) => {
    if (draft.issuedAt > until) return
    const inv = given(draft) ?? draft
    // Nothing to bill, nothing issued (a finalized invoice is kept as given).
    if (inv.status === 'finalized' || inv.lines.length > 0) out.push(inv)
  }
  // Billed arrears by period index and meter, from the recurring invoices before the current one.
  const billed = new Map<number, Map<string, { quantity: number; amount: number }>>()
  const record = (inv: Invoice) => {
    for (const l of inv.lines) {
      if (!ARREARS_KINDS.has(l.kind)) continue
      const byMeter = billed.get(l.period.index) ?? new Map<string, { quantity: number; amount: number }>()
      const b = byMeter.get(l.meter ?? '') ?? { quantity: 0, amount: 0 }
      b.quantity += l.quantity
      b.amount += l.amount
      byMeter.set(l.meter ?? '', b)
      billed.set(l.period.index, byMeter)
    }
  }
  /** The first invoice's recurring fees per month, before any discount. */
  let minimum: number | null = null

  const recurring = (k: number, advance: PeriodState | undefined, closed: PeriodState | undefined, issuedAt: number) => {
    const key = `recurring:${k}`
    const given = finalized.get(key)
    let inv: Invoice
    if (given) inv = given
    else {
      const lines: InvoiceLine[] = []
      if (advance) lines.push(...recurringLines(advance.start, advance.contactsStart, advance.period))
      if (closed) lines.push(...arrears(closed))
      lines.push(...adjustments(states, k, billed))
      // Minimum price (docs/rules.md §5): the period's own recurring fees against the first invoice's,
      // like with like: N months of its monthly fees, less this period's cycle discount. Usage of an
      // earlier period is not a fee of this one.
      const own = sum(lines.filter((l) => RECURRING_KINDS.has(l.kind) && l.period.index === advance?.period.index).map((l) => l.amount))
      if (advance && minimum !== null && k > 0) {
        const floor = lineAmount({
          quantity: 1, unitPrice: minimum, months: advance.period.months, discountPercent: discountFor(advance.start.plan, advance.period.cycle),
        })
        if (own < floor) {
          lines.push(priced({
            kind: 'minimum', description: 'Minimum price: the total of the first invoice', quantity: 1, unitPrice: floor - own,
            months: 1, discountPercent: 0, period: periodRef(advance.period),
          }))
        }
      }
      const terms = advance?.start ?? closed?.end
      inv = invoice(account, key, 'recurring', terms?.plan.currency ?? '', issuedAt, (advance ?? closed)?.period ?? null, lines)
    }
    if (k === 0 && advance) minimum = monthlyFees(inv)
    if (inv.status !== 'finalized' && inv.lines.length === 0) return
    if (inv.issuedAt <= until) {
      record(inv)
      out.push(inv)
    }
  }

  states.forEach((ps, i) => {
    const p = ps.period
    recurring(i, ps, states[i - 1], p.start)
    const within: Invoice[] = []
    const keys = new Set<string>()
    for (const u of ps.upgrades) {
      const contacts = contactsOn(ps, u.at)
      const proration = { days: daysBetween(u.at, p.endDate), of: p.days }
      const lines = [...recurringLines(u.before, contacts, p, proration, -1), ...recurringLines(u.after, contacts, p, proration, 1)]
      const change = account.subscription.changes?.[u.change] ?? { at: u.at }
      let key = upgradeKey(i, change)
      // Two changes alike in every field on one day: the second is told apart by its rank among them.
      for (let n = 2; keys.has(key); n++) key = `${upgradeKey(i, change)}#${n}`
      keys.add(key)
      within.push(invoice(account, key, 'upgrade', u.after.plan.currency, startOfDay(u.at, account.timezone), p, lines))
    }
    // A change edited after its upgrade invoice was finalized: the new invoice of the period charges
    // the difference, crediting the lines of the one it replaces (docs/rules.md §5).
    const replaced = (data.finalized ?? []).filter((f) => f.kind === 'upgrade' && f.period?.index === i && !keys.has(f.key) && !LEGACY_UPGRADE_KEY.test(f.key))
    const draft = within.find((inv) => !finalized.has(inv.key))
    if (draft && replaced.length > 0) {
      for (const f of replaced) {
        for (const l of f.lines) {
          draft.lines.push(priced({
            kind: l.kind, meter: l.meter, product: l.product, contacts: l.contacts, description: `Replaced (${f.key}): ${l.description}`,
            quantity: -l.quantity, unitPrice: l.unitPrice, months: l.months, discountPercent: l.discountPercent, proration: l.proration,
            period: l.period, from: l.from, to: l.to,
          }))
        }
      }
      draft.total = sum(draft.lines.map((l) => l.amount))
    }
    for (const r of ps.rebalances) {
      const plan = termsOn(ps, r.day).plan
      const lines: InvoiceLine[] = []
      for (const g of r.segments) {
        const proration = { days: daysBetween(g.from, g.to), of: p.days }
        for (const l of [contactRangeLine(plan, g.paid, p, proration, -1), contactRangeLine(plan, r.after, p, proration, 1)]) {
          if (l) lines.push({ ...l, from: g.from, to: g.to })
        }
      }
      within.push(invoice(account, r.key, 'rebalance', plan.currency, startOfDay(nextDay(r.day), account.timezone), p, lines))
    }
    for (const inv of within) keep(inv)
    // Seed 002: after a cancelled subscription ends "You'll not be billed again" - but for the last usage.
    if (p.last && p.end <= until) {
      recurring(i + 1, undefined, ps, p.end)
      // Usage of the last period accepted after its final invoice: there is no next recurring invoice
      // to carry it, so it gets one of its own, issued by the run that finds it (docs/rules.md §5).
      if (finalized.has(`recurring:${i + 1}`)) {
        for (let n = 1; ; n++) {
          const key = `recurring:${i + 1}:late:${n}`
          const done = finalized.get(key)
          if (done) {
            record(done)
            out.push(done)
            continue
          }
          const lines = adjustments(states, i + 2, billed)
          if (lines.length > 0) out.push(invoice(account, key, 'recurring', ps.end.plan.currency, until, p, lines))
          break
        }
      }
    }
  })

  for (const e of data.ledger) {
    if (e.type !== 'purchase') continue
    keep(creditPackInvoice(account, e, states))
  }
  for (const g of data.emailGrants ?? []) {
    if (g.pack && g.id !== undefined && g.at !== undefined) keep(packInvoice(account, states, 'emails', g.id, g.at, g.pack.currency, `Email pack ${g.pack.name}: ${g.emails} emails`, g.pack.price))
  }
  return out.sort(issueOrder)
}

function issueOrder(a: Invoice, b: Invoice): number {
  return a.issuedAt - b.issuedAt || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
}

/** Late usage: the difference between what each earlier billed period costs now and what was billed. */
function adjustments(states: readonly PeriodState[], k: number, billed: Map<number, Map<string, { quantity: number; amount: number }>>): InvoiceLine[] {
  const lines: InvoiceLine[] = []
  for (let q = 0; q <= k - 2; q++) {
    const ps = states[q]
    if (!ps) continue
    const now = new Map<string, InvoiceLine>()
    for (const l of arrears(ps)) now.set(l.meter ?? '', l)
    const before = billed.get(q) ?? new Map<string, { quantity: number; amount: number }>()
    const meters = new Set([...now.keys(), ...before.keys()])
    for (const meter of [...meters].sort()) {
      const expected = now.get(meter)
      const was = before.get(meter) ?? { quantity: 0, amount: 0 }
      const quantity = (expected?.quantity ?? 0) - was.quantity
      const amount = (expected?.amount ?? 0) - was.amount
      // Nothing to correct when the period costs what was billed, whatever the quantities of the
      // lines billed add up to (an excess and an adjustment of it are not units of one price).
      if (amount === 0) continue
      const common = {
        kind: 'adjustment' as const, meter: meter as InvoiceLine['meter'], period: periodRef(ps.period),
        description: `Late usage: ${expected?.description ?? meter} (billed before: ${was.amount})`,
      }
      // The difference priced like the line it corrects when that gives the difference exactly
      // (more blocks at the same price); else one unit of the difference, so the line still checks.
      const like = expected
        ? priced({ ...common, quantity, unitPrice: expected.unitPrice, months: expected.months, discountPercent: expected.discountPercent, proration: expected.proration })
        : null
      lines.push(like && like.amount === amount ? like : priced({ ...common, quantity: 1, unitPrice: amount, months: 1, discountPercent: 0 }))
    }
  }
  return lines
}

function creditPackInvoice(account: BillingAccount, e: PurchaseEntry, states: readonly PeriodState[]): Invoice {
  return packInvoice(account, states, 'credits', e.id, e.at, e.currency, `Credit pack ${e.pack}: ${e.credits} credits`, e.price)
}

/** A pack bought (credits or emails): one line at its price, dated by the day of purchase, issued at once. */
function packInvoice(
  account: BillingAccount, states: readonly PeriodState[], kind: 'credits' | 'emails', id: string, at: number, currency: string,
  description: string, price: number,
): Invoice {
  const ps = states.find((s) => s.period.start <= at && at < s.period.end) ?? states[states.length - 1]
  const ref = ps ? periodRef(ps.period) : { index: -1, start: at, end: at, startDate: localDate(at, account.timezone), endDate: localDate(at, account.timezone) }
  const day = localDate(at, account.timezone)
  const line: InvoiceLine = priced({ kind, description, quantity: 1, unitPrice: price, months: 1, discountPercent: 0, period: ref, from: day, to: day })
  return {
    key: `${kind}:${id}`, kind, status: 'draft', number: null, currency, issuedAt: at,
    issuedDate: localDate(at, account.timezone), period: ref, lines: [line], total: line.amount, amountUnit: 'minor',
  }
}

/**
 * The invoices due by `asOf` that are not finalized yet, in issue order (drafts, unnumbered).
 * @example invoicesDue(account, { usage: [], ledger: [] }, Date.UTC(2026, 6, 12)).map((i) => i.key) // ['recurring:0']
 */
export function invoicesDue(account: BillingAccount, data: BillingData, asOf: number): Invoice[] {
  const done = new Set((data.finalized ?? []).map((i) => i.key))
  return computeInvoices(account, data, asOf).filter((i) => !done.has(i.key))
}

/**
 * The next invoice number: one more than the highest given (numbers are never reused).
 * @example nextNumber([1, 2, 3]) // 4
 * @example nextNumber([]) // 1
 */
export function nextNumber(existing: Iterable<number>): number {
  let max = 0
  for (const n of existing) if (n > max) max = n
  return max + 1
}

/**
 * A draft made final under a number; a finalized invoice is returned unchanged.
 * @example finalize(draft, 7).number // 7
 */
export function finalize(draft: Invoice, number: number): Invoice {
  if (draft.status === 'finalized') return draft
  return { ...draft, status: 'finalized', number }
}

/**
 * The recurring invoice that will close the period holding `at`, from the usage so far: the same
 * computation as the one the run finalizes.
 * @example preview(account, data, Date.UTC(2026, 7, 1))?.key // 'recurring:1'
 */
export function preview(account: BillingAccount, data: BillingData, at: number): Invoice | null {
  const ps = periodStates(account, data, at).find((s) => s.period.start <= at && at < s.period.end)
  if (!ps) return null
  const key = `recurring:${ps.period.index + 1}`
  return computeInvoices(account, data, ps.period.end).find((i) => i.key === key) ?? null
}

/** What a billing run appends: credit log entries and numbered invoices. */
export interface BillingRun { ledger: LedgerEntry[]; invoices: Invoice[] }

/**
 * One billing run up to `asOf`: grants and expiries due, and every invoice due, numbered gap-free
 * after the finalized ones. Idempotent: with its output stored, running again returns nothing.
 * @example runBilling(account, { usage: [], ledger: [], finalized: [] }, asOf).invoices[0]?.number // 1
 */
export function runBilling(account: BillingAccount, data: BillingData, asOf: number): BillingRun {
  const ledger = creditsDue(account, data.ledger, asOf)
  const withLedger = ledger.length ? { ...data, ledger: [...data.ledger, ...ledger] } : data
  let n = nextNumber((data.finalized ?? []).map((i) => i.number ?? 0))
  const invoices = invoicesDue(account, withLedger, asOf).map((d) => finalize(d, n++))
  return { ledger, invoices }
}

/** The account's current period as `GET /v1/period` shows it. */
export interface PeriodSummary {
  period: PeriodRef
  cycle: Period['cycle']
  planId: string
  seats: number
  /** Products chosen and in force now. */
  products: readonly string[]
  paidContacts: number
  meters: Meters
  included: Record<'impressions' | 'engagements' | 'chatSessions' | 'alerts', number>
  /** Emails of the current month of the anchor calendar against its quota and the grants of that month. */
  emails: EmailAllowance
  credits: Balances
  preview: Invoice | null
}

/**
 * The period holding `at`: usage against the included quotas, balances, email quota left and the
 * invoice preview; null outside the subscription.
 */
export function periodSummary(account: BillingAccount, data: BillingData, at: number): PeriodSummary | null {
  const now = periodNow(account, data, at)
  if (!now) return null
  const { ps, terms, plan, paidContacts, emails } = now
  const months = ps.period.months
  return {
    period: periodRef(ps.period), cycle: ps.period.cycle, planId: terms.planId, seats: terms.seats, products: terms.products,
    paidContacts, meters: ps.meters,
    included: {
      impressions: (plan.included.impressions ?? 0) * months, engagements: (plan.included.engagements ?? 0) * months,
      chatSessions: (plan.included.chatSessions ?? 0) * months, alerts: (plan.included.alerts ?? 0) * months,
    },
    emails, credits: balances(replay(data.ledger), at), preview: preview(account, data, at),
  }
}

/** The period holding `at`, the terms and paid contacts in force, and the email quota of the month. */
function periodNow(account: BillingAccount, data: Pick<BillingData, 'usage' | 'finalized' | 'emailGrants' | 'contactsBefore'> & { ledger?: readonly LedgerEntry[] }, at: number) {
  const ps = periodStateAt(account, { ...data, ledger: data.ledger ?? [] }, at)
  if (!ps) return null
  const day = localDate(at, account.timezone)
  let terms = ps.start
  for (const u of ps.upgrades) if (startOfDay(u.at, account.timezone) <= at) terms = u.after
  const plan: Plan = terms.plan
  const paidContacts = contactsOn(ps, nextDay(day))
  return { ps, terms, plan, paidContacts, emails: emailAllowance(account, data.usage, at, quotaContacts(plan, paidContacts), plan, data.emailGrants) }
}

/**
 * What an email send at `at` is checked against: the data it needs and nothing older, so the check
 * costs the same in an account's first month and its hundredth. The quota depends on the contacts
 * the period was billed for, which the period's finalized recurring invoice states; until that
 * invoice exists the previous period's readings decide, so its rows are read too.
 */
export function emailWindow(account: BillingAccount, at: number): { fromDay: string; toDay: string; invoiceKeys: string[] } | null {
  const p = periodAt(account.subscription, account.timezone, at)
  if (!p) return null
  const prev = p.index > 0 ? periodByIndex(account.subscription, account.timezone, p.index - 1) : null
  return {
    fromDay: (prev ?? p).startDate,
    toDay: p.endDate,
    invoiceKeys: [...(prev ? [`recurring:${prev.index}`] : []), `recurring:${p.index}`],
  }
}

/**
 * The email quota of the month holding `at`, the emails sent in it and what is left: the same
 * answer as `periodSummary(...).emails`, from the rows and invoices `emailWindow` names (or more).
 */
export function emailsAt(account: BillingAccount, data: Pick<BillingData, 'usage' | 'finalized' | 'emailGrants' | 'contactsBefore'>, at: number): EmailAllowance | null {
  return periodNow(account, data, at)?.emails ?? null
}

/**
 * The contacts an email quota is for (docs/rules.md §3, seed 004: "4 times more emails than the
 * number of contacts you paid for"): the upper bound of the range the period is billed at, or the
 * paid count itself on a plan without ranges or in an open last range.
 * @example quotaContacts(growth, 0) // 1000
 * @example quotaContacts(growth, 3000) // 5000
 */
export function quotaContacts(plan: Plan, paid: number): number {
  if (plan.contactRanges.length === 0) return paid
  return contactRange(plan, paid).upTo ?? paid
}

/**
 * The email quota of the month (of the anchor calendar) holding `at`, the emails sent in it and what
 * is left. Seed 004: "Your email quota is updated each month along with your subscription status."
 */
export function emailAllowance(
  account: BillingAccount, usage: readonly UsageRow[], at: number, paidContacts: number, plan: Plan,
  grants: readonly EmailGrant[] = [],
): EmailAllowance {
  const slice = monthSliceAt(account.subscription, account.timezone, at)
  const quota = emailQuota(plan.emailsPerContact, paidContacts)
  if (!slice) return { quota, granted: 0, sent: 0, left: 0 }
  const endDate = localDate(slice.end, account.timezone)
  let sent = 0
  for (const r of usage) if (r.day >= slice.startDate && r.day < endDate) sent += r.emails ?? 0
  let granted = 0
  for (const g of grants) if (g.month === slice.startDate) granted += g.emails
  return { quota, granted, sent, left: Math.max(0, quota + granted - sent) }
}

/**
 * The month of the anchor calendar holding `at` (its first local day), the one an email grant made
 * at `at` adds to; null outside the subscription. A grant is for the quota that is running out now:
 * in a monthly cycle that month is the period, in a long term the quota renews monthly too.
 */
export function emailMonthAt(account: BillingAccount, at: number): string | null {
  return monthSliceAt(account.subscription, account.timezone, at)?.startDate ?? null
}
