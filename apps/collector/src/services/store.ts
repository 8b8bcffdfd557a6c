/**
 * The services bound to an engine: the one object routes, the billing runner and the CLI call.
 * Each write is one service function run in one transaction of the engine; reads go straight to
 * the repository. The same binding runs in-process (tests, PostgreSQL) and on the SQLite storage
 * thread (../engines/sqlite/worker.ts), so the rules run wherever the database is.
 */
import type { Balances, BillingAccount, CreditResult } from '@tally/billing'
import type { DeliveryRow, Engine, RejectionRecord, WebhookEndpointRow } from '../engines/repository.js'
import { READS, type RepositoryReads } from '../engines/repository.js'
import { ingest, type IngestRequest, type IngestStatus } from './ingest.js'
import {
  creditBalances,
  creditRequest,
  grantEmails,
  recordUsage,
  type CreditCall,
  type EmailGrantCall,
  type EmailGrantResult,
  type UsageOutcome,
  type UsageRequest,
} from './usage.js'
import { billingData, billingRun, type BillingPlan, type BillingRunCall, type BillingRunOutcome, type StoredBilling } from './billing.js'
import { LedgerBook } from './ledger-book.js'
import { applyConfigFile, writeConfig, type ConfigWrite, type ConfigWriteOutcome, type FileApply, type FileApplyOutcome } from './config.js'
import { claimDeliveries, emitRejectionSpike, type DeliveryStore } from './webhooks.js'
import { invoiceEvidence, type EvidenceRequest } from './evidence.js'
import { saveAccountChange, type AccountChangeCall, type AccountChangeResult } from './accounts.js'
import { createPortalSession, recordFact, type FactCall, type FactRow, type PortalSessionRow } from './portal.js'
import { evidenceChunks, type EvidenceFormat } from '../domain/evidence-csv.js'

/** An evidence export: which invoice, and as CSV or JSON lines. */
export type EvidenceExport = EvidenceRequest & { format: EvidenceFormat }

/**
 * The services, and the operations that are not plain repository reads. Every read of the
 * `Repository` (`READS`, ../engines/repository.ts) is on the `Store` too, forwarded by name through
 * `Engine.read`: a route reads one with no line here.
 */
export interface Services extends DeliveryStore {
  /** One beacon's events: units, conversations and rollups in one transaction; statuses in event order. */
  ingest(req: IngestRequest): Promise<IngestStatus[]>
  /** Counts refusals (already summed per key by ./rejections.ts), all in one transaction. */
  recordRejections(rows: readonly RejectionRecord[]): Promise<void>
  /** Deletes at most `limit` day rows of refusals older than `before`; returns how many. */
  pruneRejections(before: number, limit: number): Promise<number>
  /** Marks open conversations idle for longer than `idleMs` as idle; returns how many. */
  closeIdleConversations(now: number, idleMs: number): Promise<number>
  /** An admin write of configuration objects: new versions with their audit entries, one transaction (./config.ts). */
  writeConfig(req: ConfigWrite): Promise<ConfigWriteOutcome>
  /** The config file's changes applied to the database as one change, or only computed (`dryRun`). */
  applyConfigFile(req: FileApply): Promise<FileApplyOutcome>
  /**
   * Calls `listener` when another collector writes a configuration version (PostgreSQL `LISTEN`);
   * absent where one process holds the database. Returns the stop.
   */
  onConfigChange?(listener: () => void, onError: (e: Error) => void): () => Promise<void>
  /** One `POST /v1/usage` request, decided and written together. */
  recordUsage(req: UsageRequest): Promise<UsageOutcome[]>
  /** A credit purchase or transfer, decided against the stored log and appended in one transaction. */
  creditRequest(req: CreditCall): Promise<CreditResult>
  /** Balances by wallet and lot at `at`, the grants and expiries due by then counted; reads the open ledger only. */
  creditBalances(account: string, billing: BillingAccount, at: number): Promise<Balances>
  /** Extra emails for the current month of the quota, granted by support (idempotent by id). */
  grantEmails(req: EmailGrantCall): Promise<EmailGrantResult>
  /** One account's billing run up to `asOf`: grants, expiries and finalized invoices, all or nothing. */
  billingRun(req: BillingRunCall): Promise<BillingRunOutcome>
  /** What billing reads for an account: daily usage rows, the credit log, finalized invoices. */
  billingData(account: string): Promise<StoredBilling>
  /** An account change (admin API, billing portal), its webhook and receipt in one transaction (./accounts.ts). */
  saveAccountChange(req: AccountChangeCall): Promise<AccountChangeResult>
  /** A new portal session; the account's sessions expired a day ago are deleted with it. */
  createPortalSession(req: { account: string; row: PortalSessionRow; at: number }): Promise<void>
  /** Opens a portal link once (see Repository.openPortalLink). */
  openPortalLink(account: string, id: string, session: string, at: number): Promise<PortalSessionRow | null>
  /** Stores a fact once per (kind, id), with its webhook. */
  recordFact(req: FactCall): Promise<{ fact: FactRow; created: boolean }>
  /** Adds a webhook endpoint (docs/webhooks.md). */
  addWebhookEndpoint(account: string, endpoint: WebhookEndpointRow): Promise<void>
  /** Removes an endpoint and what was still to be sent to it; false when there was none. */
  deleteWebhookEndpoint(account: string, id: string): Promise<boolean>
  /** The delivery log, newest event first, before the event at `beforeSeq` when given. */
  webhookDeliveries(account: string, limit: number, beforeSeq?: number): Promise<DeliveryRow[]>
  /** Sends an event again to every endpoint the account has now; null when there is no such event. */
  redeliverWebhook(account: string, eventId: string, now: number): Promise<number | null>
  /** A `usage.refused_spike` event for a minute with more refused beacons than the threshold (once a minute). */
  rejectionSpike(req: { account: string; minute: number; refused: number; threshold: number; at: number }): Promise<boolean>
  /**
   * The evidence of an invoice as text, one encoded chunk per page of rows (docs/evidence.md). The
   * first chunk is read when the first is asked for; breaking off the iteration stops the reads.
   */
  evidence(req: EvidenceExport): AsyncIterable<Uint8Array>
  /**
   * Whether this collector can write now, with the reason when not (`/readyz`); never throws.
   * Engines shared by several collectors (PostgreSQL) have it; without it, `ping` decides.
   */
  readiness?(): Promise<{ ok: true } | { ok: false; reason: string }>
  /**
   * Runs `fn` unless another collector on the database runs work under the same `key` now
   * (`{ ran: false }`); absent where one process holds the database (SQLite).
   */
  exclusive?<T>(key: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>
  close(): Promise<void>
}

/** The services, and every repository read by its name (see `Services`). */
export type Store = Services & Omit<RepositoryReads, keyof Services>

/**
 * `plan`: where the engine can read beside its writer, the billing run's decision made there
 * (`planBilling`); the run's transaction then checks and writes it (undefined: decided in it).
 */
export function createStore(engine: Engine, opts: { plan?: ((req: BillingRunCall) => Promise<BillingPlan | undefined>) | undefined } = {}): Store {
  const book = new LedgerBook()
  const write = async <T>(fn: Parameters<Engine['transaction']>[0] extends (tx: infer R) => unknown ? (tx: R) => Promise<T> : never) => {
    try {
      return await engine.transaction(fn)
    } catch (e) {
      // What the failed transaction cached was never committed.
      book.forget()
      throw e
    }
  }
  const reads = Object.fromEntries(
    READS.map((name) => [name, (...args: unknown[]) => engine.read((db) => (db[name] as (...a: unknown[]) => Promise<unknown>).apply(db, args))]),
  ) as unknown as RepositoryReads
  const store: Store = {
    ...reads,
    // A beacon's transaction may share its commit with the others arriving meanwhile (docs/architecture.md).
    ingest: (req) => (engine.grouped ? engine.grouped((tx) => ingest(tx, req)) : write((tx) => ingest(tx, req))),
    recordRejections: (rows) =>
      write(async (tx) => {
        for (const r of rows) await tx.recordRejection(r)
      }),
    pruneRejections: (before, limit) => write((tx) => tx.pruneRejections(before, limit)),
    closeIdleConversations: (now, idleMs) => write((tx) => tx.markIdleConversations(now - idleMs)),
    writeConfig: (req) => write((tx) => writeConfig(tx, req)),
    applyConfigFile: (req) => write((tx) => applyConfigFile(tx, req)),
    recordUsage: (req) => write((tx) => recordUsage(tx, book, req)),
    creditRequest: (req) => write((tx) => creditRequest(tx, book, req)),
    creditBalances: (account, billing, at) => engine.read((db) => creditBalances(db, book, account, billing, at)),
    grantEmails: (req) => write((tx) => grantEmails(tx, req)),
    billingRun: async (req) => {
      const plan = await opts.plan?.(req)
      return write((tx) => billingRun(tx, book, req, plan))
    },
    billingData: (account) => engine.read((db) => billingData(db, account)),
    saveAccountChange: (req) => write((tx) => saveAccountChange(tx, req)),
    createPortalSession: (req) => write((tx) => createPortalSession(tx, req)),
    openPortalLink: (account, id, session, at) => write((tx) => tx.openPortalLink(account, id, session, at)),
    recordFact: (req) => write((tx) => recordFact(tx, req)),
    addWebhookEndpoint: (account, endpoint) => write((tx) => tx.insertWebhookEndpoint(account, endpoint)),
    deleteWebhookEndpoint: (account, id) => write((tx) => tx.deleteWebhookEndpoint(account, id)),
    webhookDeliveries: (account, limit, beforeSeq) => engine.read((db) => db.deliveries(account, limit, beforeSeq)),
    redeliverWebhook: (account, eventId, now) => write((tx) => tx.redeliver(account, eventId, now)),
    rejectionSpike: (req) => write((tx) => emitRejectionSpike(tx, req)),
    // An idle loop only reads: the write transaction (the lease) is taken when something is due.
    claimDeliveries: async (now, limit, leaseUntil) =>
      (await engine.read((db) => db.dueDeliveries(now, 1))).length === 0 ? [] : write((tx) => claimDeliveries(tx, now, limit, leaseUntil)),
    recordDelivery: (account, seq, endpoint, update) => write((tx) => tx.updateDelivery(account, seq, endpoint, update)),
    evidence: (req) => evidenceChunks(invoiceEvidence(store, req), req.format),
    close: () => engine.close(),
  }
  return store
}

export type { IngestEvent, IngestRequest, IngestStatus } from './ingest.js'
export type { UsageInput, UsageRequest, UsageOutcome, CreditCall, EmailGrantCall, EmailGrantResult } from './usage.js'
export type { BillingRunCall, BillingRunOutcome, StoredBilling } from './billing.js'
