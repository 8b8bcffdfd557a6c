/**
 * The account a request acts for, as the auth middleware set it (`c.var.account`), with its
 * billing view. One answer for every route: an account the configuration no longer has (removed
 * between the key check and the read) is `404 not_found`.
 */
import type { Context } from 'hono'
import type { BillingAccount } from '@tally/billing'
import { fail } from '../errors.js'
import { billingAccount } from '../domain/billing-account.js'
import type { ConfigState } from '../domain/config.js'
import type { TallyEnv } from '../context.js'

export type Who = { id: string; billing: BillingAccount }

export const whoOf =
  (config: ConfigState) =>
  (c: Context<TallyEnv>): Who => {
    const id = c.var.account
    const billing = billingAccount(config, id)
    if (!billing) throw fail('not_found', `no account "${id.slice(0, 64)}"`)
    return { id, billing }
  }
