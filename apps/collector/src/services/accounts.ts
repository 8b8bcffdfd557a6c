/**
 * Changes to an account's configuration (plan, seats, products, cycle, cancellation): the one path
 * the admin API (`PUT`/`PATCH /v1/admin/accounts/{id}`) and the billing portal both take, so the
 * rules of what a change may be (the config schema, `subscriptionProblem`) are written once. A
 * change is validated against the whole configuration, persisted, then put in force: a 2xx means
 * it survives a restart. With a webhook or a receipt (the portal), both are written in the same
 * transaction as the change; a receipt already stored under the key answers it again instead.
 */
import type { AccountConfig } from '@tally/protocol'
import type { ConfigState } from '../domain/config.js'
import type { Repository } from '../store/repository.js'
import type { Store } from './store.js'
import { emit, type WebhookEventType } from './webhooks.js'

export interface AccountChangeCall {
  account: string
  /** The whole account as it is to be stored (a PATCH is merged first). */
  body: unknown
  at: number
  webhook?: { type: WebhookEventType; fact: string; data: unknown } | undefined
  /** The answer to keep under an idempotency key: the same key again answers it and changes nothing. */
  receipt?: { key: string; body: unknown } | undefined
}

/** `replayed`: the receipt was found, nothing was written, `receipt` is the stored answer. */
export type AccountChangeResult = { replayed: false } | { replayed: true; receipt: unknown }

/** In one transaction: the receipt check, the change, its webhook and its receipt. */
export async function saveAccountChange(tx: Repository, req: AccountChangeCall): Promise<AccountChangeResult> {
  await tx.lockAccount(req.account)
  if (req.receipt) {
    const stored = await tx.fact(req.account, 'portal_action', req.receipt.key)
    if (stored) return { replayed: true, receipt: stored.body }
  }
  await tx.saveConfigChange({ kind: 'account', id: req.account, body: req.body }, req.at)
  if (req.webhook) await emit(tx, req.account, req.webhook.type, req.webhook.fact, req.webhook.data, req.at)
  if (req.receipt) await tx.insertFact(req.account, { kind: 'portal_action', id: req.receipt.key, at: req.at, body: req.receipt.body })
  return { replayed: false }
}

/**
 * Validates `body` as account `id` in the whole configuration (400 with the path of the first bad
 * value), persists it, and puts it in force. Answers the account in force and whether a stored
 * receipt answered instead (then nothing changed).
 */
export async function changeAccount(
  deps: { store: Store; config: ConfigState }, call: AccountChangeCall,
): Promise<{ account: AccountConfig | undefined } & AccountChangeResult> {
  const next = deps.config.withAccount(call.account, call.body)
  const r = await deps.store.saveAccountChange(call)
  if (!r.replayed) deps.config.set(next)
  return { account: deps.config.account(call.account), ...r }
}
