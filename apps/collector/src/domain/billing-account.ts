/**
 * The account as `@tally/billing` sees it, built from the live configuration, and whether its
 * cancelled subscription has ended (docs/rules.md §5: after the paid period, its beacons are refused).
 */
import { subscriptionEnd, type BillingAccount } from '@tally/billing'
import type { AccountConfig } from '@tally/protocol'
import type { ConfigState } from './config.js'

/** The billing view of an account, or undefined when there is no such account. */
export function billingAccount(config: ConfigState, id: string): BillingAccount | undefined {
  const a = config.account(id)
  if (!a) return undefined
  return { timezone: a.timezone, subscription: a.subscription, plans: config.current().plans, members: a.members }
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
