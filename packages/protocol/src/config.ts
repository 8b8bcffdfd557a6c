/**
 * The configuration file of docs/protocol.md §7 (plans, accounts, containers), the same shapes that
 * `PUT /v1/admin/accounts/{id}` and `/v1/admin/containers/{id}` take. Validation errors name the
 * path of the bad value (`accounts.acme.subscription.cycle: …`).
 *
 * Refused at load, because each would bill or count silently wrong later:
 * - an id named like a built-in object property (`constructor`, `__proto__`, `toString`, …): a
 *   lookup `plans[id]` finds the prototype's function, and zod drops a `__proto__` key outright;
 * - a subscription or a change naming a plan, or a product, that the file does not define;
 * - a JSON text with the same key twice in one object (`JSON.parse` keeps the last one): use
 *   `parseConfigText` for the text of a file;
 * - a key no schema here knows (`server.sesionsPerHour`): dropped, it would leave the default in
 *   force without a word, so every object is strict and the error suggests the closest known key
 *   (docs/configuration.md).
 *
 * Nested objects with defaults use `prefault`: zod returns a `default` as it is, while a
 * prefault is parsed, so the defaults inside it are filled too.
 */
import { z } from 'zod'
import { describe } from './issues.js'
import { duplicateKey, jsonTooDeep, MAX_JSON_DEPTH, protoKeyPath } from './json-keys.js'
import { name, strict, key } from './config-keys.js'

export { closestName, RESERVED_IDS } from './config-keys.js'

const money = z.number().int().min(0)
const whole = z.number().int().min(0)
/** The years the billing calendar handles (the usage report's range, docs/configuration.md): a date outside is refused. */
export const CONFIG_YEARS = { min: 1970, max: 9998 } as const
const day = z.iso
  .date()
  .refine(
    // The ISO shape alone lets 2026-02-30 through: it must be a calendar date too.
    // zod runs a refinement after a failed format check too: a string that is no date at all is not a calendar date either.
    (d) => {
      const t = new Date(`${d}T00:00:00Z`)
      return !Number.isNaN(t.getTime()) && t.toISOString().startsWith(d)
    },
    'not a calendar date',
  )
  .refine((d) => {
    const y = Number(d.slice(0, 4))
    return y >= CONFIG_YEARS.min && y <= CONFIG_YEARS.max
  }, `expected a year from ${CONFIG_YEARS.min} to ${CONFIG_YEARS.max}`)
/** Zones found valid: building a formatter per account made checking a config of 10,000 accounts take seconds. */
const knownZones = new Set<string>()
const zone = z.string().refine((tz) => {
  if (knownZones.has(tz)) return true
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz })
  } catch {
    return false
  }
  knownZones.add(tz)
  return true
}, 'unknown IANA time zone')

export const CYCLES = ['monthly', 'quarterly', 'semiannual', 'annual'] as const
export type Cycle = (typeof CYCLES)[number]
/** Months in each billing cycle. */
export const CYCLE_MONTHS: Record<Cycle, number> = { monthly: 1, quarterly: 3, semiannual: 6, annual: 12 }
/** The plan's meters live with the usage report's (./usage.ts), where a browser page may import them. */
export { METERS, type Meter } from './usage.js'

const overage = strict({ per: z.number().int().min(1), price: money })

/**
 * What the billing portal (docs/portal.md) may change for an account on this plan: the vendor's
 * policy, per plan. Every default is the safe one: the portal shows everything and changes
 * nothing but the invoice information unless the vendor allows it here.
 */
export const PortalPolicySchema = strict({
  /** Plans (ids of `plans`) an account on this plan may switch to. */
  plans: z.array(name).default([]),
  /** Cycles it may switch to (a new term from the next boundary). */
  cycles: z.array(z.enum(CYCLES)).default([]),
  /** Seats it may choose, from `min` to `max`; absent: seats cannot be changed in the portal. */
  seats: strict({ min: z.number().int().min(1), max: z.number().int().min(1) })
    .refine((s) => s.min <= s.max, 'min: must not be above max')
    .optional(),
  /** Products of the plan it may add and remove. */
  products: z.boolean().default(false),
  /** Credit packs (`creditPacks`) it may buy. */
  creditPacks: z.boolean().default(false),
  /** Email packs (`emailPacks`) it may buy. */
  emailPacks: z.boolean().default(false),
  /** Whether the account may send credits to its members. */
  transfers: z.boolean().default(false),
  /** Whether it may cancel at the period's end (and undo that before then). */
  cancel: z.boolean().default(false),
  /** Whether it may edit its invoice information (company, address, tax id, billing e-mail). */
  billingDetails: z.boolean().default(true),
})
export type PortalPolicy = z.output<typeof PortalPolicySchema>

/** The portal policy of a plan, its defaults filled (a plan that says nothing allows the safe minimum). */
export const portalPolicyOf = (plan: { portal?: PortalPolicy | undefined }): PortalPolicy => plan.portal ?? PortalPolicySchema.parse({})

export const PlanSchema = strict({
  /** What people call the plan (the dashboard shows it); the id when left out. */
  name: z.string().min(1).max(120).optional(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  basePrice: money,
  seatPrice: money.default(0),
  included: strict({ impressions: whole, engagements: whole, chatSessions: whole, alerts: whole }).partial().default({}),
  overage: strict({ impressions: overage, engagements: overage, chatSessions: overage, alerts: overage }).partial().default({}),
  contactRanges: z.array(strict({ upTo: whole.nullable(), price: money })).default([]),
  emailsPerContact: whole.default(4),
  freeCredits: whole.default(0),
  creditCosts: z.record(key, whole).default({}),
  creditPacks: z.record(key, strict({ credits: whole.min(1), price: money })).default({}),
  /** Email packs a vendor can buy on top of the quota (`POST /v1/emails/purchase`), each for the month it is bought in. */
  emailPacks: z.record(key, strict({ emails: whole.min(1), price: money })).optional(),
  /** A `credits.low` webhook is sent when a wallet's balance falls below this (docs/webhooks.md); none when absent. */
  creditsLowThreshold: whole.optional(),
  /** A `usage.refused_spike` webhook is sent when more beacons than this are refused in one minute (100 when absent). */
  refusedSpikePerMinute: whole.optional(),
  /**
   * Optional add-ons a subscription may choose (seed 004: the price depends on "the number of
   * products added"), each at a price per month, billed like seats.
   */
  products: z.record(key, strict({ name: z.string().min(1).max(120).optional(), price: money })).default({}),
  cycleDiscountPercent: strict({ quarterly: z.number().min(0).max(100), semiannual: z.number().min(0).max(100), annual: z.number().min(0).max(100) })
    .partial()
    .default({}),
  /** What the billing portal may change for an account on this plan (docs/portal.md). */
  portal: PortalPolicySchema.optional(),
})
export type Plan = z.output<typeof PlanSchema>

/** A campaign, advisor or bot: on or off, with an optional display name for the dashboard. */
const flagged = z.record(key, strict({ active: z.boolean().default(true), name: z.string().min(1).max(120).optional() }))

export const ContainerSchema = strict({
  name: z.string().default(''),
  domains: z.array(z.string().min(1).max(253)),
  campaigns: flagged.default({}),
  advisors: flagged.default({}),
  bots: flagged.default({}),
})
export type ContainerConfig = z.output<typeof ContainerSchema>

export const SubscriptionSchema = strict({
  plan: name,
  cycle: z.enum(CYCLES),
  /** Anniversary anchor, a calendar date in the account's time zone. */
  start: day,
  seats: whole.default(1),
  /** Contacts paid for (the range chosen at purchase). */
  contacts: whole.default(0),
  /** Products of the plan chosen at purchase (ids of `plans.{plan}.products`). */
  products: z.array(name).optional(),
  /** Set when the subscription was cancelled: it ends at the end of the period holding this date. */
  cancelledAt: day.optional(),
  /**
   * History of plan changes, each dated by a calendar day in the account's zone (docs/billing.md):
   * a higher base-and-seats fee is an upgrade, at once and prorated by days over the whole period;
   * anything lower waits for the period's end; `cycle` buys a new term from the next boundary.
   * `products` is the whole list chosen from that day: additions at once (prorated), removals at
   * the period's end.
   */
  changes: z
    .array(strict({ at: day, plan: name.optional(), seats: whole.optional(), products: z.array(name).optional(), cycle: z.enum(CYCLES).optional() }))
    .optional(),
})
export type Subscription = z.output<typeof SubscriptionSchema>

export const AccountSchema = strict({
  name: z.string().default(''),
  timezone: zone.default('UTC'),
  active: z.boolean().default(true),
  subscription: SubscriptionSchema,
  keys: strict({ secret: z.string().min(8), read: z.string().min(8) }),
  members: z.array(name).default([]),
  containers: z.record(key, ContainerSchema).default({}),
})
export type AccountConfig = z.output<typeof AccountSchema>

const bucket = strict({
  /** Sustained requests per second. */
  rate: z.number().min(0.001),
  /** Requests allowed at once after a quiet spell. */
  burst: z.number().int().min(1),
})

/**
 * Collector settings (an extension of docs/protocol.md §7, documented in docs/collector.md):
 * `trustedProxies` are addresses or CIDR ranges whose `X-Forwarded-For` is believed;
 * `rateLimits` are token buckets per container and per client address, in requests;
 * `sessionsPerHour` is how many new browser sessions one client address (an IPv6 client by its
 * /64) may open per container per hour before the units of the next ones count as `suspicious`
 * (stored, shown, never billed: docs/security.md);
 * `webhooks.allowPrivateNetworks` lets webhook endpoints be, or resolve to, loopback, private and
 * link-local addresses: off by default, for development and tests only (docs/webhooks.md).
 */
export const ServerSchema = strict({
  trustedProxies: z.array(z.string().min(1).max(64)).default([]),
  rateLimits: strict({ perContainer: bucket.default({ rate: 2000, burst: 4000 }), perIp: bucket.default({ rate: 50, burst: 100 }) }).prefault({}),
  sessionsPerHour: z.number().int().min(1).max(1_000_000).default(120),
  webhooks: strict({ allowPrivateNetworks: z.boolean().default(false) }).prefault({}),
})
export type ServerConfig = z.output<typeof ServerSchema>

export const ConfigSchema = strict({ plans: z.record(key, PlanSchema), accounts: z.record(key, AccountSchema).default({}), server: ServerSchema.prefault({}) })
export type TallyConfig = z.output<typeof ConfigSchema>

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string }

/**
 * The first issue as `path: message`; a refused record key reports why it was refused. An unknown
 * key comes before any other issue, named by its own path: a misspelt key also leaves the key it
 * meant missing, and the typo is what to fix.
 */
function explain(issues: readonly z.core.$ZodIssue[]): string {
  const unknown = issues.find((i) => i.code === 'unrecognized_keys')
  if (unknown?.code === 'unrecognized_keys') {
    const more =
      unknown.keys.length > 1
        ? `; also unknown here: ${unknown.keys
            .slice(1)
            .map((k) => `"${k}"`)
            .join(', ')}`
        : ''
    return describe([{ ...unknown, path: [...unknown.path, String(unknown.keys[0])], message: `${unknown.message}${more}` }])
  }
  const first = issues[0]
  if (first?.code === 'invalid_key' && first.issues[0]) {
    return describe([{ ...first.issues[0], path: [...first.path, ...first.issues[0].path] }])
  }
  return describe(issues)
}

/**
 * How a key no schema knows is taken: `refuse` (the file, the admin routes), or `drop` (the
 * replay of admin changes persisted before unknown keys were refused: they replay as they were
 * applied then, without those keys).
 */
export interface ParseOptions {
  unknownKeys?: 'refuse' | 'drop'
}

/** `input` without the keys that `issues` name as unknown (a copy; the input is not changed). */
function withoutUnknownKeys(input: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const copy = structuredClone(input)
  for (const i of issues) {
    if (i.code !== 'unrecognized_keys') continue
    let at: unknown = copy
    for (const step of i.path) at = (at as Record<PropertyKey, unknown> | undefined)?.[step]
    if (typeof at === 'object' && at !== null) for (const k of i.keys) delete (at as Record<string, unknown>)[k]
  }
  return copy
}

function safeParse<S extends z.ZodType>(schema: S, input: unknown, opts: ParseOptions = {}): Parsed<z.output<S>> {
  const proto = protoKeyPath(input)
  if (proto !== null) return { ok: false, message: `${proto}: "__proto__" is the name of a built-in object property; choose another id` }
  let r = schema.safeParse(input)
  if (!r.success && opts.unknownKeys === 'drop' && r.error.issues.some((i) => i.code === 'unrecognized_keys')) {
    r = schema.safeParse(withoutUnknownKeys(input, r.error.issues))
  }
  return r.success ? { ok: true, value: r.data } : { ok: false, message: explain(r.error.issues) }
}

/**
 * What is wrong with the plans and products a subscription names, as `path: message` relative to
 * the subscription (`changes.1.plan: unknown plan "pri"`), or null. Changes are taken in date
 * order: a change's products must be offered by the plan it names or, when it names none, by the
 * plan named last before it; a change to a plan that does not offer a product chosen before must
 * list the products again.
 * @example subscriptionProblem({ plan: 'growth', changes: [{ at: '2026-08-01', plan: 'pri' }] }, plans) // 'changes.0.plan: unknown plan "pri"'
 */
export function subscriptionProblem(
  sub: Pick<Subscription, 'plan' | 'products' | 'changes'>,
  plans: Readonly<Record<string, Pick<Plan, 'products'>>>,
): string | null {
  const planOf = (id: string) => (Object.hasOwn(plans, id) ? plans[id] : undefined)
  const first = planOf(sub.plan)
  if (!first) return `plan: unknown plan "${sub.plan}"`
  const chosen = (list: readonly string[], plan: Pick<Plan, 'products'>, planId: string, at: string): string | null => {
    const seen = new Set<string>()
    for (const [i, id] of list.entries()) {
      if (!Object.hasOwn(plan.products, id)) return `${at}.${i}: plan "${planId}" offers no product "${id}"`
      if (seen.has(id)) return `${at}.${i}: product "${id}" is chosen twice`
      seen.add(id)
    }
    return null
  }
  let planId = sub.plan
  let plan = first
  let products: readonly string[] = sub.products ?? []
  const own = chosen(products, plan, planId, 'products')
  if (own) return own
  const changes = (sub.changes ?? []).map((c, i) => ({ c, i })).sort((a, b) => (a.c.at < b.c.at ? -1 : a.c.at > b.c.at ? 1 : a.i - b.i))
  for (const { c, i } of changes) {
    if (c.plan !== undefined) {
      const next = planOf(c.plan)
      if (!next) return `changes.${i}.plan: unknown plan "${c.plan}"`
      planId = c.plan
      plan = next
    }
    if (c.products !== undefined) {
      const bad = chosen(c.products, plan, planId, `changes.${i}.products`)
      if (bad) return bad
      products = c.products
    } else {
      const lost = products.find((id) => !Object.hasOwn(plan.products, id))
      if (lost !== undefined) return `changes.${i}.plan: plan "${planId}" offers no product "${lost}" chosen before; list the products with this change`
    }
  }
  return null
}

/** Validates a whole config; the error names the path of the first bad value. */
export function parseConfig(input: unknown): Parsed<TallyConfig> {
  const r = safeParse(ConfigSchema, input)
  if (!r.ok) return r
  for (const [id, plan] of Object.entries(r.value.plans)) {
    const to = plan.portal?.plans ?? []
    const i = to.findIndex((p) => !Object.hasOwn(r.value.plans, p))
    if (i >= 0) return { ok: false, message: `plans.${id}.portal.plans.${i}: unknown plan "${to[i]}"` }
  }
  for (const [id, acc] of Object.entries(r.value.accounts)) {
    const problem = subscriptionProblem(acc.subscription, r.value.plans)
    if (problem) return { ok: false, message: `accounts.${id}.subscription.${problem}` }
  }
  return r
}

/**
 * Validates the text of a config file: JSON, with no key given twice in one object (`JSON.parse`
 * would silently keep the last one), then `parseConfig`. A leading byte order mark is ignored.
 * @example parseConfigText('{"plans":{},"plans":{}}') // { ok: false, message: 'plans: duplicate key "plans" ...' }
 */
export function parseConfigText(text: string): Parsed<TallyConfig> {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text
  if (jsonTooDeep(body, MAX_JSON_DEPTH)) return { ok: false, message: `nested deeper than ${MAX_JSON_DEPTH} levels` }
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (e) {
    return { ok: false, message: `not valid JSON (${(e as Error).message})` }
  }
  const dup = duplicateKey(body)
  if (dup) return { ok: false, message: `${dup.path}: duplicate key "${dup.key}" (only one value per key is allowed)` }
  return parseConfig(json)
}

/** True when `id` may name an account, container, plan… (ID_PATTERN, and no built-in property name). */
export const isConfigId = (id: string): boolean => key.safeParse(id).success

/** Validates one account (the body of `PUT /v1/admin/accounts/{id}`); with `plans`, also the plans and products it names. */
export function parseAccount(input: unknown, plans?: Readonly<Record<string, Pick<Plan, 'products'>>>, opts?: ParseOptions): Parsed<AccountConfig> {
  const r = safeParse(AccountSchema, input, opts)
  if (!r.ok || !plans) return r
  const problem = subscriptionProblem(r.value.subscription, plans)
  return problem ? { ok: false, message: `subscription.${problem}` } : r
}
/** Validates one container (the body of `PUT /v1/admin/containers/{id}`). */
export function parseContainer(input: unknown, opts?: ParseOptions): Parsed<ContainerConfig> {
  return safeParse(ContainerSchema, input, opts)
}
