/**
 * The portal's calls to the collector (docs/portal.md): the session cookie goes by itself, every
 * write carries the page's CSRF token and an idempotency key made once per form.
 */
export interface Money {
  total: number
  currency?: string
}
export interface PlanView {
  id: string
  name: string
  currency: string
  basePrice: number
  seatPrice: number
  products: { id: string; name: string; price: number }[]
  cycleDiscountPercent: Record<string, number>
}
export interface Policy {
  plans: string[]
  cycles: string[]
  seats?: { min: number; max: number }
  products: boolean
  creditPacks: boolean
  emailPacks: boolean
  transfers: boolean
  cancel: boolean
  billingDetails: boolean
}
export interface Notice {
  kind: string
  severity: 'critical' | 'warning' | 'info'
  message: string
  date?: string
  invoice?: number
}
export interface BillingDetails {
  company: string
  address: string
  taxId: string
  email: string
}
export interface InvoiceRow {
  number: number
  kind: string
  issuedDate: string
  total: number
  currency: string
  payment: { status: 'paid' | 'failed' | 'refunded'; reference: string; date: string } | null
}
export interface State {
  account: { id: string; name: string; timezone: string }
  role: 'manager' | 'member'
  member: string | null
  expiresAt: string
  returnUrl: string | null
  policy: Policy | null
  subscription: {
    plan: PlanView
    cycle: string
    seats: number
    products: string[]
    status: 'active' | 'cancelling' | 'ended'
    period: { startDate: string; endDate: string }
    renewsOn: string | null
    cancelledAt: string | null
    endsOn: string | null
    recurring: { total: number; cycle: string } | null
    next: { plan: string; seats: number; products: string[] } | null
  }
  usage: {
    meters: { meter: string; used: number; included: number }[]
    contacts: { paid: number; highest: number | null }
    emails: { quota: number; granted: number; sent: number; left: number }
    creditsByAction: { action: string; credits: number }[]
    containers: { id: string; name: string; impressions: number; engagements: number; chatSessions: number }[]
  }
  wallets: { wallet: string; balance: number }[]
  members: string[]
  plans: PlanView[]
  packs: { credits: { id: string; credits: number; price: number }[]; emails: { id: string; emails: number; price: number }[] }
  invoices: InvoiceRow[]
  billingDetails: { details: BillingDetails; since: string } | null
  notices: Notice[]
}
export interface Preview {
  change: { at: string; plan?: string; seats?: number; products?: string[]; cycle?: string }
  effective: 'now' | 'period_end'
  chargeNow: { total: number } | null
  periodEnd: string
  next: { total: number; cycle: string }
  current: { total: number; cycle: string }
  today: { plan: string; seats: number; products: string[] }
  fromPeriodEnd: { plan: string; seats: number; products: string[] }
  currency: string
}
export interface LogEntry {
  id: string
  type: string
  wallet: string
  credits: number
  day: string
  action?: string
  pack?: string
  to?: string
}

/** A refusal the page shows as it is: the server's message names what to fix. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const csrf = (): string => document.querySelector<HTMLMetaElement>('meta[name="tally-csrf"]')?.content ?? ''

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json', 'x-tally-csrf': csrf() },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (res.status === 204) return undefined as T
  const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } }
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'internal', json.error?.message ?? `HTTP ${res.status}`)
  return json as T
}

/** A fresh idempotency key: one per form, kept until the action succeeds, so a double click does it once. */
export const newKey = (): string => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')

export const api = {
  state: () => call<State>('GET', '/v1/portal/state'),
  log: (q: Record<string, string>) => call<{ entries: LogEntry[] }>('GET', `/v1/portal/credits/log?${new URLSearchParams(q)}`),
  preview: (ask: object) => call<Preview>('POST', '/v1/portal/subscription/preview', ask),
  change: (ask: object, key: string) =>
    call<{ status: string; invoice: number | null; preview: Preview }>('POST', '/v1/portal/subscription/changes', { ...ask, key }),
  cancel: (key: string) => call<{ endsOn: string }>('POST', '/v1/portal/subscription/cancel', { key }),
  resume: (key: string) => call<unknown>('POST', '/v1/portal/subscription/resume', { key }),
  buyCredits: (pack: string, key: string) => call<{ status: string }>('POST', '/v1/portal/credits/purchase', { pack, key }),
  buyEmails: (pack: string, key: string) => call<{ status: string }>('POST', '/v1/portal/emails/purchase', { pack, key }),
  transfer: (to: string, credits: number, key: string) =>
    call<{ status: string; code?: string; balance: number }>('POST', '/v1/portal/credits/transfer', { to, credits, key }),
  billingDetails: (d: BillingDetails, key: string) => call<unknown>('PUT', '/v1/portal/billing-details', { ...d, key }),
  signOut: () => call<void>('POST', '/v1/portal/sign-out', {}),
}
