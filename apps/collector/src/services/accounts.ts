/**
 * Changes to an account's configuration (plan, seats, products, cycle, cancellation, containers):
 * the one path the admin API (`PUT`/`PATCH /v1/admin/accounts/{id}`, the container routes) and the
 * billing portal both take. A change is validated against the whole configuration, then written
 * by `writeConfig` (./config.ts) as the account's next whole version with its audit entry (who
 * made it: `admin`, or `portal:<session>`), in one transaction with the portal's webhook and
 * receipt; only then is it in force here. `GET /v1/admin/accounts/{id}/history` lists every such
 * change, whichever door it came through. A receipt already stored under the key answers again
 * and writes nothing.
 */
import type { AccountConfig, TallyConfig } from '@tally/protocol'
import type { ConfigState } from '../domain/config.js'
import { fail } from '../domain/errors.js'
import type { Repository } from '../engines/repository.js'
import { refreshConfig, writeConfig, type ConfigReader, type ConfigWrite, type ConfigWriteOutcome } from './config.js'
import { emit, type WebhookEventType } from './webhooks.js'

/** What the portal writes with a change, in its transaction. */
export interface AccountChangeExtras {
  account: string
  webhook?: { type: WebhookEventType; fact: string; data: unknown } | undefined
  /** The answer to keep under an idempotency key: the same key again answers it and changes nothing. */
  receipt?: { key: string; body: unknown } | undefined
}

export type AccountChangeCall = AccountChangeExtras & { write: ConfigWrite }

/** `replayed`: the receipt was found, nothing was written, `receipt` is the stored answer. */
export type AccountChangeResult = ConfigWriteOutcome & ({ replayed: false } | { replayed: true; receipt: unknown })

/** In one transaction: the receipt check, the version with its audit entry, its webhook and its receipt. */
export async function saveAccountChange(tx: Repository, req: AccountChangeCall): Promise<AccountChangeResult> {
  await tx.lockAccount(req.account)
  if (req.receipt) {
    const stored = await tx.fact(req.account, 'portal_action', req.receipt.key)
    if (stored) return { ok: true, rows: [], replayed: true, receipt: stored.body }
  }
  const r = await writeConfig(tx, req.write)
  if (!r.ok) return { ...r, replayed: false }
  if (req.webhook) await emit(tx, req.account, req.webhook.type, req.webhook.fact, req.webhook.data, req.write.at)
  if (req.receipt) await tx.insertFact(req.account, { kind: 'portal_action', id: req.receipt.key, at: req.write.at, body: req.receipt.body })
  return { ...r, replayed: false }
}

/** How many times a write decided on a state another collector just changed is decided again. */
const STALE_RETRIES = 3

const iso = (ms: number) => new Date(ms).toISOString()

export interface AccountChange extends Omit<AccountChangeExtras, 'account'> {
  /**
   * The account the change writes and the whole config with it, computed from this collector's
   * state (a container change names its owner); when another collector wrote meanwhile, the state
   * reads the new versions and `decide` runs again on them.
   */
  decide: () => { id: string; next: TallyConfig }
  /** When the version takes effect (ms), now when null. */
  effectiveAt: number | null
  /** Who made it, as the audit entry shows. */
  actor: string
}

export type AccountChangeOutcome =
  | { replayed: false; id: string; version: number; effectiveAt: number; account: AccountConfig }
  | { replayed: true; receipt: unknown }

/**
 * Writes the account the change gives as its next version (see the file's comment). `409
 * conflict` when a version dated later than this one waits, or when the configuration kept
 * changing meanwhile.
 */
export async function changeAccount(
  deps: { store: ConfigReader & { saveAccountChange(req: AccountChangeCall): Promise<AccountChangeResult> }; config: ConfigState; clock: { now(): number } },
  change: AccountChange,
): Promise<AccountChangeOutcome> {
  const { store, config, clock } = deps
  for (let attempt = 0; attempt < STALE_RETRIES; attempt++) {
    const { id, next } = change.decide()
    const latest = config.version('account', id, 'latest')
    const at = clock.now()
    if (latest && latest.effectiveAt > (change.effectiveAt ?? at)) {
      throw fail('conflict', `account "${id}" has a version taking effect at ${iso(latest.effectiveAt)}; date this change at or after it (?at=)`)
    }
    const before = latest ? latest.body : (config.current().accounts[id] ?? null)
    const r = await store.saveAccountChange({
      account: id,
      webhook: change.webhook,
      receipt: change.receipt,
      write: {
        baseHead: config.head(),
        seed: config.backed() ? undefined : config.current(),
        objects: [{ kind: 'account', id, body: next.accounts[id], before }],
        effectiveAt: change.effectiveAt,
        actor: change.actor,
        at,
      },
    })
    if (r.replayed) return { replayed: true, receipt: r.receipt }
    if (r.ok) {
      config.load(r.rows)
      const v = r.rows[r.rows.length - 1]!
      return { replayed: false, id, version: v.version, effectiveAt: v.effectiveAt, account: v.body as AccountConfig }
    }
    await refreshConfig(store, config)
  }
  throw fail('conflict', 'the configuration kept changing while this change was decided; send it again')
}
