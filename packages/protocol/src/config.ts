/**
 * The configuration file of PROTOCOL §7 (plans, accounts, containers), the same shapes that
 * `PUT /v1/admin/accounts/{id}` and `/v1/admin/containers/{id}` take. Validation errors name the
 * path of the bad value (`accounts.acme.subscription.cycle: …`).
 */
import * as v from 'valibot'
import { ID_PATTERN } from './limits.js'

const name = v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.regex(ID_PATTERN))
const money = v.pipe(v.number(), v.integer(), v.minValue(0))
const whole = v.pipe(v.number(), v.integer(), v.minValue(0))
const day = v.pipe(
  v.string(),
  v.isoDate(),
  // isoDate checks the shape only: 2026-02-30 must be refused too.
  v.check((d) => new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a calendar date'),
)
const zone = v.pipe(
  v.string(),
  v.check((z) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: z })
      return true
    } catch {
      return false
    }
  }, 'unknown IANA time zone'),
)

export const CYCLES = ['monthly', 'quarterly', 'semiannual', 'annual'] as const
export type Cycle = (typeof CYCLES)[number]
/** Months in each billing cycle. */
export const CYCLE_MONTHS: Record<Cycle, number> = { monthly: 1, quarterly: 3, semiannual: 6, annual: 12 }
export const METERS = ['impressions', 'engagements', 'chatSessions', 'alerts'] as const
export type Meter = (typeof METERS)[number]

const overage = v.object({ per: v.pipe(v.number(), v.integer(), v.minValue(1)), price: money })

export const PlanSchema = v.object({
  currency: v.pipe(v.string(), v.regex(/^[A-Z]{3}$/)),
  basePrice: money,
  seatPrice: v.optional(money, 0),
  included: v.optional(v.partial(v.object({
    impressions: whole, engagements: whole, chatSessions: whole, alerts: whole,
  })), {}),
  overage: v.optional(v.partial(v.object({
    impressions: overage, engagements: overage, chatSessions: overage, alerts: overage,
  })), {}),
  contactRanges: v.optional(
    v.array(v.object({ upTo: v.nullable(whole), price: money })),
    [],
  ),
  emailsPerContact: v.optional(whole, 4),
  freeCredits: v.optional(whole, 0),
  creditCosts: v.optional(v.record(name, whole), {}),
  creditPacks: v.optional(v.record(name, v.object({ credits: v.pipe(whole, v.minValue(1)), price: money })), {}),
  cycleDiscountPercent: v.optional(v.partial(v.object({
    quarterly: v.pipe(v.number(), v.minValue(0), v.maxValue(100)),
    semiannual: v.pipe(v.number(), v.minValue(0), v.maxValue(100)),
    annual: v.pipe(v.number(), v.minValue(0), v.maxValue(100)),
  })), {}),
})
export type Plan = v.InferOutput<typeof PlanSchema>

const flagged = v.record(name, v.object({ active: v.optional(v.boolean(), true) }))

export const ContainerSchema = v.object({
  name: v.optional(v.string(), ''),
  domains: v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(253))),
  campaigns: v.optional(flagged, {}),
  advisors: v.optional(flagged, {}),
  bots: v.optional(flagged, {}),
})
export type ContainerConfig = v.InferOutput<typeof ContainerSchema>

export const SubscriptionSchema = v.object({
  plan: name,
  cycle: v.picklist(CYCLES),
  /** Anniversary anchor, a calendar date in the account's time zone. */
  start: day,
  seats: v.optional(whole, 1),
  /** Contacts paid for (the range chosen at purchase). */
  contacts: v.optional(whole, 0),
  /** Set when the subscription was cancelled: it ends at the end of the period holding this date. */
  cancelledAt: v.optional(day),
  /**
   * History of plan changes, each dated by a calendar day in the account's zone (docs/billing.md):
   * a higher base-and-seats fee is an upgrade, at once and prorated by days over the whole period;
   * anything lower waits for the period's end; `cycle` buys a new term from the next boundary.
   */
  changes: v.optional(v.array(v.object({
    at: day,
    plan: v.optional(name),
    seats: v.optional(whole),
    cycle: v.optional(v.picklist(CYCLES)),
  }))),
})
export type Subscription = v.InferOutput<typeof SubscriptionSchema>

export const AccountSchema = v.object({
  name: v.optional(v.string(), ''),
  timezone: v.optional(zone, 'UTC'),
  active: v.optional(v.boolean(), true),
  subscription: SubscriptionSchema,
  keys: v.object({ secret: v.pipe(v.string(), v.minLength(8)), read: v.pipe(v.string(), v.minLength(8)) }),
  members: v.optional(v.array(name), []),
  containers: v.optional(v.record(name, ContainerSchema), {}),
})
export type AccountConfig = v.InferOutput<typeof AccountSchema>

const bucket = v.object({
  /** Sustained requests per second. */
  rate: v.pipe(v.number(), v.minValue(0.001)),
  /** Requests allowed at once after a quiet spell. */
  burst: v.pipe(v.number(), v.integer(), v.minValue(1)),
})

/**
 * Collector settings (an extension of PROTOCOL §7, documented in docs/collector.md):
 * `trustedProxies` are addresses or CIDR ranges whose `X-Forwarded-For` is believed;
 * `rateLimits` are token buckets per container and per client address, in requests.
 */
export const ServerSchema = v.object({
  trustedProxies: v.optional(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(64))), []),
  rateLimits: v.optional(v.object({
    perContainer: v.optional(bucket, { rate: 2000, burst: 4000 }),
    perIp: v.optional(bucket, { rate: 50, burst: 100 }),
  }), {}),
})
export type ServerConfig = v.InferOutput<typeof ServerSchema>

export const ConfigSchema = v.object({
  plans: v.record(name, PlanSchema),
  accounts: v.optional(v.record(name, AccountSchema), {}),
  server: v.optional(ServerSchema, {}),
})
export type TallyConfig = v.InferOutput<typeof ConfigSchema>

/** Validates a whole config; the error names the path of the first bad value. */
export function parseConfig(input: unknown): { ok: true; value: TallyConfig } | { ok: false; message: string } {
  const r = v.safeParse(ConfigSchema, input)
  if (!r.success) return { ok: false, message: describe(r.issues) }
  for (const [id, acc] of Object.entries(r.output.accounts)) {
    if (!r.output.plans[acc.subscription.plan]) {
      return { ok: false, message: `accounts.${id}.subscription.plan: unknown plan "${acc.subscription.plan}"` }
    }
  }
  return { ok: true, value: r.output }
}

/** Validates one account (the body of `PUT /v1/admin/accounts/{id}`). */
export function parseAccount(input: unknown) {
  const r = v.safeParse(AccountSchema, input)
  return r.success ? { ok: true as const, value: r.output } : { ok: false as const, message: describe(r.issues) }
}
/** Validates one container (the body of `PUT /v1/admin/containers/{id}`). */
export function parseContainer(input: unknown) {
  const r = v.safeParse(ContainerSchema, input)
  return r.success ? { ok: true as const, value: r.output } : { ok: false as const, message: describe(r.issues) }
}

function describe(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): string {
  const i = issues[0]
  const path = i.path?.map((p) => String(p.key)).join('.')
  return path ? `${path}: ${i.message}` : i.message
}
