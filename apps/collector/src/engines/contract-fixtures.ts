/** What the repository contract suite (./contract.ts) writes: an instant, a conversation's state, a grant, an invoice. */
import type { ConversationState, Invoice, LedgerEntry } from '@tally/billing'

export const T = Date.UTC(2026, 6, 20, 12, 0, 0)

export const state = (over: Partial<ConversationState> = {}): ConversationState => ({
  startedAt: T,
  lastEventAt: T + 60_000,
  latestAt: T + 60_000,
  endedAt: null,
  closed: false,
  active: true,
  botMs: 60_000,
  firstReceivedAt: T,
  lastReceivedAt: T + 60_000,
  events: 2,
  ...over,
})

export const grant = (id: string, credits = 500): LedgerEntry => ({ id, type: 'grant', wallet: 'account', at: T, credits, lot: id, expiresAt: T + 86_400_000 })

export const invoice = (key: string, number: number): Invoice =>
  ({
    key,
    kind: 'recurring',
    status: 'finalized',
    number,
    currency: 'EUR',
    issuedAt: T,
    issuedDate: '2026-07-20',
    period: null,
    lines: [],
    total: 4900,
  }) as unknown as Invoice
