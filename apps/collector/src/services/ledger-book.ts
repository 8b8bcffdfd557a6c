/**
 * The credit log of each account as the services read and extend it: its open ledger (the open
 * lots and what `@tally/billing` keeps of the rest), stored beside the log in the transaction of
 * every append, kept between requests and checked against the log's head before each use, so
 * another writer (the billing run, another collector on the same database) simply causes a
 * reload of it. Entries are keyed by columns (`LedgerKey`), and entry ids are built so that no client id
 * can produce another request's id (docs/rules.md, "Credits").
 */
import { advance, isOpen, openLedger, replay, type LedgerEntry, type LedgerState } from '@tally/billing'
import type { CreditBookRow, LedgerKey, Repository } from '../engines/repository.js'

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

/**
 * The key of the invoice a credit purchase makes (`credits:` and its entry id, docs/billing.md
 * "Invoices"): what the answer and the `credits.purchased` webhook name, `:` escaped as in the entry.
 * @example purchaseInvoiceKey('buy:1') // 'credits:purchase:buy%3A1'
 */
export const purchaseInvoiceKey = (id: string): string => `credits:${ledgerId.purchase(id)}`

/** The key of a request's own entry (its first, for a transfer): how a repeat finds it. */
export const requestKey = {
  action: (id: string): LedgerKey => ({ source: 'action', ref: id, leg: '' }),
  purchase: (id: string): LedgerKey => ({ source: 'purchase', ref: id, leg: '' }),
  transfer: (id: string): LedgerKey => ({ source: 'transfer', ref: id, leg: 'out' }),
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

  /**
   * The account's open ledger as stored now (`openLedger` of `@tally/billing`): the open lots and
   * the stored head, read through indexes, so a request costs the same in month 100 as in month 2
   * (docs/architecture.md, "Per-request work"). Kept between requests and checked against the
   * log's head, so another writer (the billing run, another collector) causes a reload of that,
   * never a replay. A log written before the open ledger was stored is replayed once, and the
   * result stored when `tx` is a write transaction (`persist`).
   */
  async state(tx: Repository, account: string, persist = true): Promise<LedgerState> {
    const head = await tx.ledgerHead(account)
    const hit = this.cache.get(account)
    if (hit && hit.head === head) return hit.state
    if (head === 0) {
      // No entry yet (an account's first billing run): nothing to read, and an empty book to store
      // would be written again by the first append.
      const state = openLedger(replay([]))
      this.cache.set(account, { head, state })
      return state
    }
    const book = await tx.creditBook(account)
    let state: LedgerState
    if (book && book.head === head) {
      const lots = await tx.openLots(account)
      state = {
        lots: new Map(lots.map((l) => [l.lot, l])),
        entries: new Map(),
        totals: book.totals,
        open: { dueThrough: book.dueThrough ?? Number.NEGATIVE_INFINITY, wallets: book.wallets },
      }
    } else {
      const full = replay(await tx.ledger(account))
      state = openLedger(full)
      if (persist) {
        await tx.saveCreditBook(
          account,
          bookRow(head, state),
          [...full.lots.values()].map((l) => ({ ...l, open: isOpen(l) })),
        )
      }
    }
    this.cache.set(account, { head, state })
    return state
  }

  /**
   * The open ledger with the request's own entry, when it is a repeat, and the lots that entry
   * drew from: what `spend`, `transfer` and `purchase` look up to answer a repeat as the first time.
   */
  async forRequest(tx: Repository, account: string, state: LedgerState, key: LedgerKey): Promise<LedgerState> {
    const [seen] = await tx.ledgerEntries(account, [key])
    if (!seen) return state
    const drawn = seen.type === 'spend' || seen.type === 'transfer_out' ? seen.draws.map((d) => d.lot).filter((l) => !state.lots.has(l)) : []
    const closed = drawn.length ? await tx.creditLots(account, drawn) : []
    return { ...state, lots: new Map([...state.lots, ...closed.map((l) => [l.lot, l] as const)]), entries: new Map([[seen.id, seen]]) }
  }

  /**
   * Appends entries, which include the grants and expiries due by `asOf`: those of the system
   * (grants, expiries) by their id, those of the request with `clientId`. The open ledger is
   * advanced and stored in the same transaction as the entries (a crash keeps both or neither).
   * Returns the state with them applied.
   */
  async append(tx: Repository, account: string, state: LedgerState, entries: readonly LedgerEntry[], asOf: number, clientId?: string): Promise<LedgerState> {
    if (entries.length === 0) return state
    const rows = entries.map((entry) => ({ key: ledgerKey(entry, entry.type === 'grant' || entry.type === 'expiry' ? undefined : clientId), entry }))
    const head = await tx.appendLedger(account, rows)
    const next = advance({ ...state, entries: new Map() }, entries, asOf)
    await tx.saveCreditBook(
      account,
      bookRow(head, next.state),
      next.touched.map((l) => ({ ...l, open: isOpen(l) })),
    )
    this.cache.set(account, { head, state: next.state })
    return next.state
  }

  /** Drops every cached log: a transaction failed, so what was cached may never have been committed. */
  forget(): void {
    this.cache.clear()
  }
}

function bookRow(head: number, state: LedgerState): CreditBookRow {
  const dueThrough = state.open?.dueThrough ?? Number.NEGATIVE_INFINITY
  return { head, dueThrough: Number.isFinite(dueThrough) ? dueThrough : null, wallets: state.open?.wallets ?? [], totals: { ...state.totals } }
}
