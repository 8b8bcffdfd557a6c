/**
 * The parts of the read API's answers the dashboard shows (docs/protocol.md §5; the full shapes
 * are in `/openapi.json`). Only what the page reads is typed here.
 */
import type { UsageMeter } from '@tally/protocol/contract'

export type UsageRow = Partial<Record<UsageMeter, number>> & {
  day?: string
  container?: string | null
  containerName?: string
  campaign?: string | null
  advisor?: string | null
  bot?: string | null
}

export interface UsageAnswer {
  from: string
  to: string
  timezone: string
  rows: UsageRow[]
  names?: Partial<Record<'campaign' | 'advisor' | 'bot', Record<string, string>>>
}

export interface Lot {
  kind: string
  remaining: number
}

export interface PeriodAnswer {
  timezone?: string
  asOf: string
  period: { startDate: string; endDate: string }
  planId: string
  planName?: string
  cycle: string
  seats: number
  paidContacts: number
  meters: Record<string, number | undefined> & { credits?: Record<string, number> }
  included: Record<string, number | undefined>
  emails: { left: number; sent: number; quota: number; granted?: number }
  credits?: Record<string, { balance: number; lots: Lot[] }>
  preview?: { currency: string; total: number; issuedDate: string; lines: { description: string; amount: number }[] } | null
}

export interface CreditEntry {
  type: string
  wallet: string
  credits: number
  at?: string
  time?: string
  action?: string
  quantity?: number
  pack?: string
  to?: string
  from?: string
  expiresAt?: string
  lot?: string
}
export interface CreditLogAnswer {
  timezone?: string
  entries: CreditEntry[]
}

export interface InvoiceSummary {
  number: number
  issuedDate: string
  kind: string
  total: number
  currency: string
  period?: { startDate: string; endDate: string } | null
}
export interface InvoicesAnswer {
  invoices: InvoiceSummary[]
}

export interface RejectionEntry {
  container: string
  reason: string
  origin: string
  count: number
  lastSeen: string
}
export interface RejectionsAnswer {
  timezone?: string
  rejections?: RejectionEntry[]
}

/** `GET /v1/notices`: what the account should know now, most urgent first (docs/portal.md). */
export interface NoticesAnswer {
  notices: { kind: string; severity: 'critical' | 'warning' | 'info'; message: string }[]
}
