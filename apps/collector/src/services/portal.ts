/**
 * What the billing portal (docs/portal.md) stores beside the account's configuration: its sessions
 * and the account facts kept with their history (invoice information, payment status reported by
 * the vendor). Each function runs in one transaction of the engine (./store.ts); the decisions of
 * what a portal session may do live in ../routes/portal.ts and ../domain/portal.ts.
 */
import type { FactKind, FactRow, PortalSessionRow, Repository } from '../engines/repository.js'
import { emit, type WebhookEventType } from './webhooks.js'

/** A day after they expire, an account's sessions are deleted when it asks for a new one. */
export const PORTAL_SESSION_RETENTION_MS = 86_400_000

export async function createPortalSession(tx: Repository, req: { account: string; row: PortalSessionRow; at: number }): Promise<void> {
  await tx.prunePortalSessions(req.account, req.at - PORTAL_SESSION_RETENTION_MS)
  await tx.insertPortalSession(req.account, req.row)
}

export interface FactCall {
  account: string
  fact: FactRow
  /** Sent once, with the fact, when this call stored it. */
  webhook?: { type: WebhookEventType; data: unknown } | undefined
}

/** Stores a fact once per (kind, id) and its webhook with it; answers the stored fact and whether it is new. */
export async function recordFact(tx: Repository, req: FactCall): Promise<{ fact: FactRow; created: boolean }> {
  await tx.lockAccount(req.account)
  const r = await tx.insertFact(req.account, req.fact)
  if (r.created && req.webhook) await emit(tx, req.account, req.webhook.type, `${req.fact.kind}:${req.fact.id}`, req.webhook.data, req.fact.at)
  return r
}

export type { FactKind, FactRow, PortalSessionRow }
