/**
 * The credit log of each account as the services read and extend it: the stored entries replayed
 * by `@tally/billing`, kept between requests and checked against the stored head before each use,
 * so another writer (the billing run, another collector on the same database) simply causes a
 * reload. Entries are keyed by columns (`LedgerKey`), and entry ids are built so that no client id
 * can produce another request's id (docs/rules.md, "Credits").
 */
import { applyEntries, replay, type LedgerEntry, type LedgerState } from '@tally/billing'
import type { LedgerKey, Repository } from '../store/repository.js'

/**
 * A client id inside an entry id: `:` is escaped, so `transfer:a:in` (the receiving leg of
 * transfer `a`) can never be the id of transfer `a:in` (`transfer:a%3Ain`).
 */
const escapeId = (id: string) => id.replaceAll('%', '%25').replaceAll(':', '%3A')

/** Entry ids of client requests, by kind: an action, a purchase and a transfer may share a client id. */
export const ledgerId = {
  action: (id: string) => `action:${escapeId(id)}`,
  purchase: (id: string) => `purchase:${escapeId(id)}`,
  transfer: (id: string) => `transfer:${escapeId(id)}`,
}

/** The key of an entry: system entries by their own id, a request's entries by the client's id. */
export function ledgerKey(e: LedgerEntry, clientId?: string): LedgerKey {
  switch (e.type) {
    case 'grant':
    case 'expiry':
      return { source: e.type, ref: e.id, leg: '' }
    case 'spend':
      return { source: 'action', ref: clientId ?? e.id, leg: '' }
    case 'purchase':
      return { source: 'purchase', ref: clientId ?? e.id, leg: '' }
    case 'transfer_out':
      return { source: 'transfer', ref: clientId ?? e.id, leg: 'out' }
    case 'transfer_in':
      return { source: 'transfer', ref: clientId ?? e.id, leg: 'in' }
  }
}

export class LedgerBook {
  private readonly cache = new Map<string, { head: number; state: LedgerState }>()

  /** The account's replayed log as stored now. */
  async state(tx: Repository, account: string): Promise<LedgerState> {
    const head = await tx.ledgerHead(account)
    const hit = this.cache.get(account)
    if (hit && hit.head === head) return hit.state
    const state = replay(await tx.ledger(account))
    this.cache.set(account, { head, state })
    return state
  }

  /**
   * Appends entries: those of the system (grants, expiries) by their id, those of the request
   * with `clientId`. Returns the state with them applied.
   */
  async append(tx: Repository, account: string, state: LedgerState, entries: readonly LedgerEntry[], clientId?: string): Promise<LedgerState> {
    if (entries.length === 0) return state
    const rows = entries.map((entry) => ({
      key: ledgerKey(entry, entry.type === 'grant' || entry.type === 'expiry' ? undefined : clientId), entry,
    }))
    const head = await tx.appendLedger(account, rows)
    const next = applyEntries(state, entries)
    this.cache.set(account, { head, state: next })
    return next
  }

  /** Drops every cached log: a transaction failed, so what was cached may never have been committed. */
  forget(): void {
    this.cache.clear()
  }
}
