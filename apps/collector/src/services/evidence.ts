/**
 * The evidence of an invoice (docs/evidence.md): for each line, the stored billable units behind
 * it, so a customer can check the bill against the events and not only against our totals.
 *
 * What adds up to what (the identity docs/evidence.md states and the property test checks):
 * - a `usage` line bills the started blocks of `per` units beyond the included quota. Its evidence
 *   is every unit of its meter in the line's period (impressions, engagements, conversations with
 *   their chat sessions, alerts), then one `summary` row. The `quantity` of the unit rows adds up
 *   to the meter total the line was computed from (`used`), and the summary row states
 *   `blocks = ceil((used - included) / per)`, which is the line's quantity.
 * - an `adjustment` line bills late usage of an earlier period: the same rows for that period as
 *   stored now, and a summary row with the blocks billed before; the line's quantity is the
 *   blocks now less the blocks billed before.
 * - a `contacts_excess` line: every contacts reading of the period; the line prices the highest.
 * - every other line (base, seats, products, contact range, minimum, credit pack) is one `charge`
 *   row whose quantity is the line's.
 * Units are selected by the bounds the meters use: the period's local days in the account's zone,
 * which for instants is `[period.start, period.end)` (rollup days are local days of the same time).
 *
 * Rows come page by page (keyset reads of `pageSize` rows), so an export of any size holds one
 * page in memory; the route streams them as they come.
 */
import { overage, periodRef, periodStates, type BillingAccount, type Invoice, type InvoiceLine, type PeriodRef, type PeriodState } from '@tally/billing'
import type { Meter } from '@tally/protocol'
import type { Repository, UsageEventRow } from '../engines/repository.js'
import type { StoredBilling } from './billing.js'
import { ledgerId } from './ledger-book.js'
import type { EvidenceRow } from '../domain/evidence-row.js'

/** The reads evidence needs: the Store's evidence pages (one engine read each). */
export type EvidenceReader = Pick<Repository, 'unitContainers' | 'unitPage' | 'conversationPage' | 'usageEventPage'>

export { EVIDENCE_COLUMNS, type EvidenceRecord, type EvidenceRow } from '../domain/evidence-row.js'

/** Rows of the stored page meters and usage meters, by meter. */
const UNIT_METERS: Partial<Record<Meter, 'campaign' | 'advisor'>> = { impressions: 'campaign', engagements: 'advisor' }

export interface EvidenceRequest {
  account: string
  billing: BillingAccount
  invoice: Invoice
  /** What billing reads (the finalized invoices, the usage rows): the plan and meters of each period. */
  data: StoredBilling
  /** Now: periods that started by then. */
  at: number
  pageSize: number
}

/**
 * The evidence rows of an invoice, page by page (each yielded array is one page or less).
 * @example for await (const page of invoiceEvidence(reader, req)) for (const row of page) write(row)
 */
export async function* invoiceEvidence(db: EvidenceReader, req: EvidenceRequest): AsyncGenerator<EvidenceRow[]> {
  const states = periodStates(req.billing, req.data, req.at)
  const stateOf = (p: PeriodRef): PeriodState | undefined => states.find((s) => s.period.index === p.index)
  for (const [i, line] of req.invoice.lines.entries()) {
    const n = i + 1
    const meter = line.meter
    if ((line.kind === 'usage' || line.kind === 'adjustment') && meter && meter !== 'contacts') {
      let used = 0
      for await (const page of meterUnits(db, req, line.period, meter, n, line.kind)) {
        for (const r of page) used += r.quantity ?? 0
        yield page
      }
      yield [summary(req, line, n, meter, used, stateOf(line.period))]
    } else if (line.kind === 'contacts_excess' || (line.kind === 'adjustment' && meter === 'contacts')) {
      let max = 0
      for await (const page of usagePages(db, req, 'contacts', line.period)) {
        const rows = page.map((e) => usageRow(e, n, line.kind, 'contacts'))
        for (const r of rows) max = Math.max(max, r.quantity ?? 0)
        yield rows
      }
      yield [
        {
          line: n,
          lineKind: line.kind,
          meter: 'contacts',
          record: 'summary',
          used: max,
          note: `the highest reading of the period is ${max}: the line prices the contact range it falls in (${line.description})`,
        },
      ]
    } else {
      yield [{ line: n, lineKind: line.kind, ...(meter ? { meter } : {}), record: 'charge', quantity: line.quantity, note: line.description }]
    }
  }
  // A recurring invoice closes the period before its own: that period's credit-consuming actions
  // and emails, which no line bills in money (credits paid for the actions, the emails counted
  // against the quota), as line 0.
  const k = /^recurring:(\d+)$/.exec(req.invoice.key)
  const closed = k ? states.find((s) => s.period.index === Number(k[1]) - 1) : undefined
  if (!closed) return
  const actionOf = new Map<string, string>()
  for (const e of req.data.ledger) if (e.type === 'spend') actionOf.set(e.id, e.action)
  for (const type of ['action', 'email'] as const) {
    for await (const page of usagePages(db, req, type, periodRef(closed.period))) {
      yield page.map((e) => ({
        line: 0,
        record: type,
        id: e.id,
        time: e.time,
        quantity: e.quantity,
        ...(type === 'action'
          ? { subject: actionOf.get(ledgerId.action(e.id)), credits: e.credits, member: e.member ?? undefined }
          : { note: 'counted against the email quota' }),
      }))
    }
  }
}

/** Every unit of a meter in a period, as rows of line `n`. */
async function* meterUnits(
  db: EvidenceReader,
  req: EvidenceRequest,
  p: PeriodRef,
  meter: Meter,
  n: number,
  lineKind: InvoiceLine['kind'],
): AsyncGenerator<EvidenceRow[]> {
  const { account, pageSize } = req
  const kind = UNIT_METERS[meter]
  if (kind) {
    const record = kind === 'campaign' ? 'impression' : 'engagement'
    for (const container of await db.unitContainers(account, kind, p.startDate, p.endDate)) {
      for (let after = null as Parameters<EvidenceReader['unitPage']>[5]; ; ) {
        const page = await db.unitPage(account, container, kind, p.start, p.end, after, pageSize)
        if (page.length === 0) break
        yield page.map((u) => ({
          line: n,
          lineKind,
          meter,
          record,
          id: u.eventId,
          container: u.container,
          session: u.session,
          subject: u.subject,
          time: u.time,
          quantity: 1,
        }))
        const last = page[page.length - 1]
        if (!last || page.length < pageSize) break
        after = { time: last.time, session: last.session, subject: last.subject }
      }
    }
  } else if (meter === 'chatSessions') {
    for (let after = null as Parameters<EvidenceReader['conversationPage']>[3]; ; ) {
      const page = await db.conversationPage(account, p.start, p.end, after, pageSize)
      if (page.length === 0) break
      yield page.map((c) => ({
        line: n,
        lineKind,
        meter,
        record: 'chat' as const,
        id: c.conversation,
        container: c.container,
        session: c.session,
        subject: c.bot,
        time: c.startedAt,
        end: c.endedAt ?? c.lastEventAt,
        receivedFirst: c.firstReceivedAt,
        receivedLast: c.lastReceivedAt,
        botMs: c.botMs,
        quantity: c.sessions,
      }))
      const last = page[page.length - 1]
      if (!last || page.length < pageSize) break
      after = { startedAt: last.startedAt, container: last.container, conversation: last.conversation }
    }
  } else if (meter === 'alerts') {
    for await (const page of usagePages(db, req, 'alert', p)) yield page.map((e) => usageRow(e, n, lineKind, meter))
  }
}

async function* usagePages(db: EvidenceReader, req: EvidenceRequest, type: UsageEventRow['type'], p: PeriodRef): AsyncGenerator<UsageEventRow[]> {
  for (let after = null as Parameters<EvidenceReader['usageEventPage']>[4]; ; ) {
    const page = await db.usageEventPage(req.account, type, p.startDate, p.endDate, after, req.pageSize)
    if (page.length === 0) return
    yield page
    const last = page[page.length - 1]
    if (!last || page.length < req.pageSize) return
    after = { day: last.day, id: last.id }
  }
}

function usageRow(e: UsageEventRow, n: number, lineKind: InvoiceLine['kind'], meter: string): EvidenceRow {
  return { line: n, lineKind, meter, record: e.type === 'alert' ? 'alert' : 'contacts', id: e.id, time: e.time, quantity: e.quantity }
}

/** The check of a usage or adjustment line: the units above, the quota, the blocks they make. */
function summary(req: EvidenceRequest, line: InvoiceLine, n: number, meter: Meter, used: number, ps: PeriodState | undefined): EvidenceRow {
  const plan = ps?.end.plan
  const over = plan && ps ? overage(plan, ps.period, meter, used) : null
  const included = plan ? (plan.included[meter] ?? 0) * (ps?.period.months ?? 1) : undefined
  const per = plan?.overage[meter]?.per
  const blocks = over?.blocks ?? 0
  const base = { line: n, lineKind: line.kind, meter, record: 'summary' as const, used, included, per, blocks }
  const stored = ps?.meters[meter]
  const drift = stored !== undefined && stored !== used ? `; the daily counts hold ${stored}` : ''
  if (line.kind === 'adjustment') {
    const before = billedBefore(req.data.finalized, req.invoice, line.period.index, meter)
    return {
      ...base,
      billedBefore: before,
      note: `late usage: ${used} units now make ${blocks} blocks; earlier invoices billed ${before}; the line bills the difference${drift}`,
    }
  }
  const late = blocks !== line.quantity ? `; ${blocks} blocks now: usage that arrived after this invoice is billed as an adjustment on a later one` : ''
  return { ...base, note: `${used} units (the rows of this line) less ${included ?? 0} included, in blocks of ${per ?? '-'}: ${blocks} blocks${late}${drift}` }
}

/** Blocks of a meter of period `index` billed by the finalized invoices numbered before `inv`. */
function billedBefore(finalized: readonly Invoice[], inv: Invoice, index: number, meter: string): number {
  let q = 0
  for (const other of finalized) {
    if (other.number === null || inv.number === null || other.number >= inv.number) continue
    for (const l of other.lines) {
      if ((l.kind === 'usage' || l.kind === 'adjustment') && l.meter === meter && l.period.index === index) q += l.quantity
    }
  }
  return q
}
