/**
 * What every billing portal route shares (./portal.ts, ./portal-credits.ts): reading a body by its
 * schema, the account's billing and the portal policy of its plan in force, the refusal of what the
 * policy does not allow, and the one billing runner the portal's writes run.
 */
import type { z } from 'zod'
import { termsAt, type BillingAccount } from '@tally/billing'
import { portalPolicyOf } from '@tally/protocol'
import { fail } from '../errors.js'
import { billingAccount } from '../domain/billing-account.js'
import { createBillingRunner } from '../services/billing-runner.js'
import type { AppDeps } from '../context.js'
import { valid } from './api/define.js'

/** A body or query, validated by the schema its operation declares (./api/ops-portal.ts). */
export const parse = <S extends z.ZodType>(schema: S, input: unknown): z.output<S> => valid(schema, input ?? {})

/** The portal's shared helpers, made once per app. */
export function portalKit(deps: AppDeps) {
  const { config } = deps
  const runner = createBillingRunner(deps)
  const billingOf = (account: string): BillingAccount => {
    const b = billingAccount(config, account)
    if (!b) throw fail('not_found', `no account "${account}"`)
    return b
  }
  const policyOf = (billing: BillingAccount, at: number) => {
    const t = termsAt(billing, at)
    if (!t) throw fail('invalid_request', 'the subscription has not started or has ended')
    return { terms: t.terms, policy: portalPolicyOf(t.terms.plan) }
  }
  const refuse = (allowed: boolean, what: string) => {
    if (!allowed) throw fail('forbidden', `the portal does not allow ${what} on this plan`)
  }
  return { runner, billingOf, policyOf, refuse }
}

export type PortalKit = ReturnType<typeof portalKit>
