/** The reference model's inputs and outputs (./model.ts): plans, subscriptions, what a run sees, invoices. */
export type Cycle = 'monthly' | 'quarterly' | 'semiannual' | 'annual'
export const MONTHS: Record<Cycle, number> = { monthly: 1, quarterly: 3, semiannual: 6, annual: 12 }

export interface ModelPlan {
  currency: string
  basePrice: number
  seatPrice: number
  /** Included alerts per month, and the price of each started block of `per` beyond. */
  includedAlerts: number
  alertOverage: { per: number; price: number }
  contactRanges: { upTo: number | null; price: number }[]
  products: Record<string, number>
  discount: Partial<Record<Cycle, number>>
  packs: Record<string, { credits: number; price: number }>
}

export interface Change {
  at: string
  plan?: string
  seats?: number
  products?: string[]
  cycle?: Cycle
}
export interface Sub {
  plan: string
  cycle: Cycle
  start: string
  seats: number
  contacts: number
  products: string[]
  changes: Change[]
  cancelledAt?: string
}

/** What a run sees: the subscription in force, the daily rows that arrived, the purchases made. */
export interface Seen {
  sub: Sub
  zone: string
  plans: Record<string, ModelPlan>
  /** Alerts and contact readings by local day (contacts: that day's highest). */
  days: Map<string, { alerts: number; contacts?: number }>
  purchases: { id: string; pack: string; at: number }[]
}

export interface ModelLine {
  kind: string
  period: number
  amount: number
  meter?: string
  product?: string
}
export interface ModelInvoice {
  key: string
  kind: string
  issuedAt: number
  lines: ModelLine[]
  total: number
  detail?: unknown
}
