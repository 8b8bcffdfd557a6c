/**
 * One row of an invoice's evidence (docs/evidence.md) and the order of its columns: what
 * services/evidence.ts produces and domain/evidence-csv.ts writes.
 */
import type { InvoiceLine } from '@tally/billing'

/** What a row records: a billable unit, a reading, the check of a line, or a line with no units. */
export type EvidenceRecord = 'impression' | 'engagement' | 'chat' | 'alert' | 'contacts' | 'summary' | 'charge' | 'action' | 'email'

/** One row of the evidence; absent fields are empty CSV cells and absent JSON keys. */
export interface EvidenceRow {
  /** The line's position on the invoice, from 1; 0 for the closed period's activity that no line bills (actions, emails). */
  line: number
  lineKind?: InvoiceLine['kind'] | undefined
  meter?: string | undefined
  record: EvidenceRecord
  /** The event id of a unit (the first event that counted it), the conversation, or the usage event id. */
  id?: string | undefined
  container?: string | undefined
  session?: string | undefined
  /** The campaign, advisor or bot; the action of a credit-consuming action. */
  subject?: string | undefined
  /** When the unit was counted (the event time), the conversation started, the reading was made. */
  time?: number | undefined
  /** Chat: when the conversation ended (its end event, else its last event). */
  end?: number | undefined
  /** Chat: the first and the last receipt of its events (only witnessed time is billed, docs/rules.md §3). */
  receivedFirst?: number | undefined
  receivedLast?: number | undefined
  botMs?: number | undefined
  /** Credits an action spent, and the member whose wallet paid (the account's when empty). */
  credits?: number | undefined
  member?: string | undefined
  /**
   * What the row adds up to: 1 per unit and the chat sessions of a conversation (their sum is the
   * summary's `used`), a contacts reading, the line's quantity for a charge; empty on a summary.
   */
  quantity?: number | undefined
  /** Summary: the meter total (the sum of the unit rows above), the included quota, the block size, the blocks it makes (the line's quantity). */
  used?: number | undefined
  included?: number | undefined
  per?: number | undefined
  blocks?: number | undefined
  /** Summary of an adjustment: the blocks earlier invoices billed for the period. */
  billedBefore?: number | undefined
  note?: string | undefined
}

/** The column order of the CSV, one per field of EvidenceRow. */
export const EVIDENCE_COLUMNS = [
  'line',
  'lineKind',
  'meter',
  'record',
  'id',
  'container',
  'session',
  'subject',
  'time',
  'end',
  'receivedFirst',
  'receivedLast',
  'botMs',
  'quantity',
  'used',
  'included',
  'per',
  'blocks',
  'billedBefore',
  'credits',
  'member',
  'note',
] as const satisfies readonly (keyof EvidenceRow)[]
