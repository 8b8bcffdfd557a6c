/**
 * The account as `@tally/billing` sees it, built from the live configuration, and whether its
 * cancelled subscription has ended (docs/rules.md §5: after the paid period, its beacons are refused).
 */
import { subscriptionEnd, type BillingAccount } from '@tally/billing'
import type { AccountConfig, Plan } from '@tally/protocol'
import type { ConfigState } from './config.js'

/** The billing view of an account, or undefined when there is no such account. */
export function billingAccount(config: ConfigState, id: string): BillingAccount | undefined {
  const a = config.account(id)
  if (!a) return undefined
  return { timezone: a.timezone, subscription: a.subscription, plans: config.current().plans, members: a.members }
}

/** Which versions of the configuration priced an invoice (docs/configuration.md): the account's and its plan's. */
export interface PricedBy {
  account: number
  plan: number | null
}

/** A stretch of time billed with one billing view: invoices issued up to `asOf` are priced by it. */
export interface BillingSegment {
  asOf: number
  billing: BillingAccount
  pricedBy: PricedBy | null
}

const sameBilling = (a: BillingAccount, b: BillingAccount) => JSON.stringify(a) === JSON.stringify(b)

/**
 * The billing run's stretches up to `asOf`, each priced by the versions in force then (an invoice
 * issued at `t` by those in force at `t`): one stretch per change of the account's billing view
 * (zone, subscription, members, plans) after `from`, and the last up to `asOf`. A state not
 * backed by the database has one stretch, the config in force.
 */
export function billingSegments(config: ConfigState, id: string, from: number, asOf: number): BillingSegment[] {
  const viewAt = (at: number): { billing: BillingAccount; pricedBy: PricedBy } | undefined => {
    const v = config.versionAt('account', id, at)
    if (!v || v.body === null) return undefined
    const a = v.body as AccountConfig
    const plans: Record<string, Plan> = {}
    for (const planId of Object.keys(config.current().plans)) {
      const p = config.versionAt('plan', planId, at)
      if (p && p.body !== null) plans[planId] = p.body as Plan
    }
    const plan = config.versionAt('plan', a.subscription.plan, at)
    return {
      billing: { timezone: a.timezone, subscription: a.subscription, plans, members: a.members },
      pricedBy: { account: v.version, plan: plan?.version ?? null },
    }
  }
  if (!config.backed()) {
    const billing = billingAccount(config, id)
    return billing ? [{ asOf, billing, pricedBy: null }] : []
  }
  const times = new Set(config.versionTimes('account', id))
  for (const planId of Object.keys(config.current().plans)) for (const t of config.versionTimes('plan', planId)) times.add(t)
  const out: BillingSegment[] = []
  for (const t of [...times].sort((a, b) => a - b)) {
    if (t <= from || t > asOf) continue
    const before = viewAt(t - 1)
    const after = viewAt(t)
    if (before && (!after || !sameBilling(before.billing, after.billing))) out.push({ asOf: t - 1, ...before })
  }
  const last = viewAt(asOf)
  if (last) out.push({ asOf, ...last })
  return out
}

/** `subscriptionEnd` by subscription value (the config replaces it on change): computed once, from the cycle changes. */
const ends = new WeakMap<object, number | null>()

/** True once a cancelled subscription's last period is over. */
export function subscriptionEnded(account: AccountConfig, at: number): boolean {
  const sub = account.subscription
  if (sub.cancelledAt === undefined) return false
  let end = ends.get(sub)
  if (end === undefined) {
    end = subscriptionEnd(sub, account.timezone)
    ends.set(sub, end)
  }
  return end !== null && at >= end
}
