/**
 * The credit log's types: its entries, the lots and state they replay into, and the requests and
 * outcomes of ./ledger.ts, which re-exports them; the rules that read and write them live there.
 */
/** Credits drawn from one lot. */
export interface LotDraw {
  lot: string
  credits: number
}

interface EntryBase {
  /** Unique in the log; the request's id, or a derived one (`grant:3`, `expiry:grant:3`). */
  id: string
  wallet: string
  /** UTC milliseconds. */
  at: number
  /** Always positive; the direction is the entry's type. */
  credits: number
}
/** The free credits of one month of the anchor calendar; they expire at its end. */
export interface GrantEntry extends EntryBase {
  type: 'grant'
  lot: string
  expiresAt: number
}
/** A credit pack bought; its lot never expires. The pack's invoice is derived from this entry. */
export interface PurchaseEntry extends EntryBase {
  type: 'purchase'
  lot: string
  pack: string
  price: number
  currency: string
}
/** Credits paid for an action. */
export interface SpendEntry extends EntryBase {
  type: 'spend'
  action: string
  quantity: number
  draws: LotDraw[]
}
/** Credits sent from the account to a member (irreversible). */
export interface TransferOutEntry extends EntryBase {
  type: 'transfer_out'
  to: string
  draws: LotDraw[]
}
/** Credits received by a member: new lots that keep the expiry of the lots they came from. */
export interface TransferInEntry extends EntryBase {
  type: 'transfer_in'
  from: string
  lots: { lot: string; source: string; credits: number; expiresAt: number | null }[]
}
/** The unspent rest of a lot at its expiry. */
export interface ExpiryEntry extends EntryBase {
  type: 'expiry'
  lot: string
}

export type LedgerEntry = GrantEntry | PurchaseEntry | SpendEntry | TransferOutEntry | TransferInEntry | ExpiryEntry

/** A lot of credits in a wallet. */
export interface Lot {
  lot: string
  wallet: string
  /** `free` lots come from grants (and keep their expiry when transferred). */
  kind: 'free' | 'purchased'
  /** When it entered the wallet. */
  at: number
  expiresAt: number | null
  remaining: number
  expired: boolean
}

/** The log replayed: lots and totals. Build it with `replay`, extend it with `applyEntries`. */
export interface LedgerState {
  lots: Map<string, Lot>
  entries: Map<string, LedgerEntry>
  totals: { granted: number; purchased: number; spent: number; expired: number }
  /**
   * Set on an open ledger (`openLedger`, `advance`), the part of the log a credit request can
   * still need, whose size follows what the account holds and never its history
   * (docs/architecture.md, "Per-request work"): `lots` holds the open lots only (credits left,
   * no expiry entry yet), `entries` only the entries the caller looked up for the request (its
   * own, when it is a repeat) and those it adds.
   */
  open?: OpenMark
}

/** What an open ledger keeps of the entries it no longer holds. */
export interface OpenMark {
  /**
   * The grants and expiries due by this instant are in the log: the months of the anchor
   * calendar that started by then have had their grant decided (`creditsDue` skips them).
   */
  dueThrough: number
  /** Every wallet that ever held a lot, in the order they first did: `balances` lists them, empty ones at 0. */
  wallets: string[]
}

/** Balances of every wallet at `at`, with their lots. */
export interface Balances {
  [wallet: string]: { balance: number; lots: { lot: string; kind: 'free' | 'purchased'; remaining: number; expiresAt: number | null }[] }
}

/** Why a credit request was refused. */
export type CreditRefusal = 'insufficient_credits' | 'unknown_member' | 'unknown_pack' | 'invalid_quantity'

/** Credits a transfer moved, by the kind of lot they came from. */
export interface Moved {
  purchased: number
  free: number
}

/**
 * The outcome of a credit request: the entries to append (catch-up grants and expiries first).
 * A transfer also says how many purchased and free credits it moved (`moved`).
 */
export type CreditResult =
  | {
      ok: true
      duplicate: boolean
      entries: LedgerEntry[]
      credits: number
      balance: number
      moved?: Moved
      /** What the stored request named (a repeat answers these, not what the repeat says): the member of a transfer, the pack of a purchase. */
      to?: string
      pack?: string
    }
  | { ok: false; code: CreditRefusal; entries: LedgerEntry[]; balance: number }

/** A credit-consuming action (docs/protocol.md §4 `type: "action"`). */
export interface SpendRequest {
  id: string
  action: string
  quantity: number
  member?: string | undefined
  at: number
}

/** `POST /v1/credits/transfer`: from the account to a member. */
export interface TransferRequest {
  id: string
  to: string
  credits: number
  at: number
}
