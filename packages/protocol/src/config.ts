/**
 * The configuration file of PROTOCOL §7 (plans, accounts, containers), the same shapes that
 * `PUT /v1/admin/accounts/{id}` and `/v1/admin/containers/{id}` take. Validation errors name the
 * path of the bad value (`accounts.acme.subscription.cycle: …`).
 *
 * Nested objects with defaults use `prefault`: zod returns a `default` as it is, while a
 * prefault is parsed, so the defaults inside it are filled too.
 */
import { z } from 'zod'
import { ID_PATTERN } from './limits.js'
import { describe } from './issues.js'

const name = z.string().min(1).max(64).regex(ID_PATTERN)
const money = z.number().int().min(0)
const whole = z.number().int().min(0)
const day = z.iso.date().refine(
  // The ISO shape alone lets 2026-02-30 through: it must be a calendar date too.
  (d) => new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
  'not a calendar date',
)
const zone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz })
    return true
  } catch {
    return false
  }
}, 'unknown IANA time zone')

export const CYCLES = ['monthly', 'quarterly', 'semiannual', 'annual'] as const
export type Cycle = (typeof CYCLES)[number]
/** Months in each billing cycle. */
export const CYCLE_MONTHS: Record<Cycle, number> = { monthly: 1, quarterly: 3, semiannual: 6, annual: 12 }
export const METERS = ['impressions', 'engagements', 'chatSessions', 'alerts'] as const
export type Meter = (typeof METERS)[number]

const overage = z.object({ per: z.number().int().min(1), price: money })

export const PlanSchema = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/),
  basePrice: money,
  seatPrice: money.default(0),
  included: z.object({
    impressions: whole, engagements: whole, chatSessions: whole, alerts: whole,
  }).partial().default({}),
  overage: z.object({
    impressions: overage, engagements: overage, chatSessions: overage, alerts: overage,
  }).partial().default({}),
  contactRanges: z.array(z.object({ upTo: whole.nullable(), price: money })).default([]),
  emailsPerContact: whole.default(4),
  freeCredits: whole.default(0),
  creditCosts: z.record(name, whole).default({}),
  creditPacks: z.record(name, z.object({ credits: whole.min(1), price: money })).default({}),
  cycleDiscountPercent: z.object({
    quarterly: z.number().min(0).max(100),
    semiannual: z.number().min(0).max(100),
    annual: z.number().min(0).max(100),
  }).partial().default({}),
})
export type Plan = z.output<typeof PlanSchema>

const flagged = z.record(name, z.object({ active: z.boolean().default(true) }))

export const ContainerSchema = z.object({
  name: z.string().default(''),
  domains: z.array(z.string().min(1).max(253)),
  campaigns: flagged.default({}),
  advisors: flagged.default({}),
  bots: flagged.default({}),
})
export type ContainerConfig = z.output<typeof ContainerSchema>

export const SubscriptionSchema = z.object({
  plan: name,
  cycle: z.enum(CYCLES),
  /** Anniversary anchor, a calendar date in the account's time zone. */
  start: day,
  seats: whole.default(1),
  /** Contacts paid for (the range chosen at purchase). */
  contacts: whole.default(0),
  /** Set when the subscription was cancelled: it ends at the end of the period holding this date. */
  cancelledAt: day.optional(),
  /**
   * History of plan changes, each dated by a calendar day in the account's zone (docs/billing.md):
   * a higher base-and-seats fee is an upgrade, at once and prorated by days over the whole period;
   * anything lower waits for the period's end; `cycle` buys a new term from the next boundary.
   */
  changes: z.array(z.object({
    at: day,
    plan: name.optional(),
    seats: whole.optional(),
    cycle: z.enum(CYCLES).optional(),
  })).optional(),
})
export type Subscription = z.output<typeof SubscriptionSchema>

export const AccountSchema = z.object({
  name: z.string().default(''),
  timezone: zone.default('UTC'),
  active: z.boolean().default(true),
  subscription: SubscriptionSchema,
  keys: z.object({ secret: z.string().min(8), read: z.string().min(8) }),
  members: z.array(name).default([]),
  containers: z.record(name, ContainerSchema).default({}),
})
export type AccountConfig = z.output<typeof AccountSchema>

const bucket = z.object({
  /** Sustained requests per second. */
  rate: z.number().min(0.001),
  /** Requests allowed at once after a quiet spell. */
  burst: z.number().int().min(1),
})

/**
 * Collector settings (an extension of PROTOCOL §7, documented in docs/collector.md):
 * `trustedProxies` are addresses or CIDR ranges whose `X-Forwarded-For` is believed;
 * `rateLimits` are token buckets per container and per client address, in requests.
 */
export const ServerSchema = z.object({
  trustedProxies: z.array(z.string().min(1).max(64)).default([]),
  rateLimits: z.object({
    perContainer: bucket.default({ rate: 2000, burst: 4000 }),
    perIp: bucket.default({ rate: 50, burst: 100 }),
  }).prefault({}),
})
export type ServerConfig = z.output<typeof ServerSchema>

export const ConfigSchema = z.object({
  plans: z.record(name, PlanSchema),
  accounts: z.record(name, AccountSchema).default({}),
  server: ServerSchema.prefault({}),
})
export type TallyConfig = z.output<typeof ConfigSchema>

/** Validates a whole config; the error names the path of the first bad value. */
export function parseConfig(input: unknown): { ok: true; value: TallyConfig } | { ok: false; message: string } {
  const r = ConfigSchema.safeParse(input)
  if (!r.success) return { ok: false, message: describe(r.error.issues) }
  for (const [id, acc] of Object.entries(r.data.accounts)) {
    if (!r.data.plans[acc.subscription.plan]) {
      return { ok: false, message: `accounts.${id}.subscription.plan: unknown plan "${acc.subscription.plan}"` }
    }
  }
  return { ok: true, value: r.data }
}

/** Validates one account (the body of `PUT /v1/admin/accounts/{id}`). */
export function parseAccount(input: unknown) {
  const r = AccountSchema.safeParse(input)
  return r.success ? { ok: true as const, value: r.data } : { ok: false as const, message: describe(r.error.issues) }
}
/** Validates one container (the body of `PUT /v1/admin/containers/{id}`). */
export function parseContainer(input: unknown) {
  const r = ContainerSchema.safeParse(input)
  return r.success ? { ok: true as const, value: r.data } : { ok: false as const, message: describe(r.error.issues) }
}

