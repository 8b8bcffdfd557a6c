/**
 * The services bound to an engine: the one object routes, the billing runner and the CLI call.
 * Each write is one service function run in one transaction of the engine; reads go straight to
 * the repository. The same binding runs in-process (tests, PostgreSQL) and on the SQLite storage
 * thread (../store/sqlite/worker.ts), so the rules run wherever the database is.
 */
import type { CreditResult } from '@tally/billing'
import type {
  ConfigChange, ConversationRow, Engine, RejectionPage, RejectionRecord, RejectionRow, RollupRow,
} from '../store/repository.js'
import { ingest, type IngestRequest, type IngestStatus } from './ingest.js'
import { creditRequest, recordUsage, type CreditCall, type UsageOutcome, type UsageRequest } from './usage.js'
import { billingData, billingRun, type BillingRunCall, type BillingRunOutcome, type StoredBilling } from './billing.js'
import { LedgerBook } from './ledger-book.js'

export interface Store {
  /** One beacon's events: units, conversations and rollups in one transaction; statuses in event order. */
  ingest(req: IngestRequest): Promise<IngestStatus[]>
  /** Counts refusals (already summed per key by ./rejections.ts), all in one transaction. */
  recordRejections(rows: readonly RejectionRecord[]): Promise<void>
  /** One page of an account's refusals last seen since `since` (ms), by container, reason, origin and subject. */
  rejections(account: string, since: number, page: RejectionPage): Promise<RejectionRow[]>
  /** Deletes at most `limit` day rows of refusals older than `before`; returns how many. */
  pruneRejections(before: number, limit: number): Promise<number>
  /** Daily counts of an account for days in `[fromDay, toDay)` (`YYYY-MM-DD`). */
  rollups(account: string, fromDay: string, toDay: string): Promise<RollupRow[]>
  /** Conversations of an account that started in `[from, to)` (ms). */
  conversations(account: string, from: number, to: number): Promise<ConversationRow[]>
  /** Marks open conversations idle for longer than `idleMs` as idle; returns how many. */
  closeIdleConversations(now: number, idleMs: number): Promise<number>
  /** Persists a run-time configuration change (admin API). */
  saveConfigChange(change: ConfigChange, at: number): Promise<void>
  /** Every persisted configuration change, oldest first, latest per (kind, id). */
  configChanges(): Promise<ConfigChange[]>
  /** One `POST /v1/usage` request, decided and written together. */
  recordUsage(req: UsageRequest): Promise<UsageOutcome[]>
  /** A credit purchase or transfer, decided against the stored log and appended in one transaction. */
  creditRequest(req: CreditCall): Promise<CreditResult>
  /** One account's billing run up to `asOf`: grants, expiries and finalized invoices, all or nothing. */
  billingRun(req: BillingRunCall): Promise<BillingRunOutcome>
  /** What billing reads for an account: daily usage rows, the credit log, finalized invoices. */
  billingData(account: string): Promise<StoredBilling>
  /** Resolves when the database answers. */
  ping(): Promise<void>
  close(): Promise<void>
}

export function createStore(engine: Engine): Store {
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
  return {
    ingest: (req) => write((tx) => ingest(tx, req)),
    recordRejections: (rows) => write(async (tx) => {
      for (const r of rows) await tx.recordRejection(r)
    }),
    rejections: (account, since, page) => engine.read((db) => db.rejections(account, since, page)),
    pruneRejections: (before, limit) => write((tx) => tx.pruneRejections(before, limit)),
    rollups: (account, fromDay, toDay) => engine.read((db) => db.rollups(account, fromDay, toDay)),
    conversations: (account, from, to) => engine.read((db) => db.conversations(account, from, to)),
    closeIdleConversations: (now, idleMs) => write((tx) => tx.markIdleConversations(now - idleMs)),
    saveConfigChange: (change, at) => write((tx) => tx.saveConfigChange(change, at)),
    configChanges: () => engine.read((db) => db.configChanges()),
    recordUsage: (req) => write((tx) => recordUsage(tx, book, req)),
    creditRequest: (req) => write((tx) => creditRequest(tx, book, req)),
    billingRun: (req) => write((tx) => billingRun(tx, book, req)),
    billingData: (account) => engine.read((db) => billingData(db, account)),
    ping: () => engine.read((db) => db.ping()),
    close: () => engine.close(),
  }
}

export type { IngestEvent, IngestRequest, IngestStatus } from './ingest.js'
export type { UsageInput, UsageRequest, UsageOutcome, CreditCall } from './usage.js'
export type { BillingRunCall, BillingRunOutcome, StoredBilling } from './billing.js'
