/** What an invoice is, and what computing invoices reads and keeps per period (./invoice.ts computes them). */
import type { Meters, UsageRow } from './meters.js'
import type { LedgerEntry } from './ledger.js'
import type { InvoiceLine, PeriodRef, PeriodTerms } from './rating.js'

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
export interface BillTo {
  company: string
  address: string
  taxId: string
  email: string
}

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
  /**
   * The latest contacts reading before the first day of `usage`, when `usage` starts at the billing
   * window (`billingWindow`): what the paid contacts carry into its first period.
   */
  readingBefore?: { day: string; contacts: number } | null | undefined
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
