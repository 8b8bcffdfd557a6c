/** Transfers and purchases of credits over the ledger of ./ledger.ts, moved whole from it. */
import type { BillingAccount } from './rating.js'
import {
  ACCOUNT_WALLET,
  memberWallet,
  type LotDraw,
  type PurchaseEntry,
  type TransferOutEntry,
  type TransferInEntry,
  type LedgerEntry,
  type Lot,
  type LedgerState,
  spendableLots,
  type Moved,
  type CreditResult,
  liveBalance,
  draw,
  planAt,
  isMember,
  prepare,
  type TransferRequest,
} from './ledger.js'

/**
 * The lots a transfer draws from, in order: purchased lots oldest first, then free lots by soonest
 * expiry. Seed 002: credits bought and sent to a team member have "no expiration date"; drawing
 * free credits first would turn a transfer of bought credits into credits that expire at month end.
 */
export function transferableLots(ledger: readonly LedgerEntry[] | LedgerState, wallet: string, at: number): Lot[] {
  const lots = spendableLots(ledger, wallet, at)
  return [...lots.filter((l) => l.kind === 'purchased'), ...lots.filter((l) => l.kind !== 'purchased')]
}

/** How many of the drawn credits were purchased and how many free. */
export function movedBy(state: LedgerState, draws: readonly LotDraw[]): Moved {
  const moved: Moved = { purchased: 0, free: 0 }
  for (const d of draws) moved[state.lots.get(d.lot)?.kind === 'free' ? 'free' : 'purchased'] += d.credits
  return moved
}

/**
 * Sends credits from the account's wallet to a member's, irreversibly: there is no way back (the
 * account is not a member, so no transfer can name it). Purchased credits go first and never
 * expire; free credits go only when no purchased ones are left, and keep their expiry.
 * @example transfer(account, log, { id: 't1', to: 'alice', credits: 100, at }) // { ok: true, moved: { purchased: 0, free: 100 }, ... }
 */
export function transfer(account: BillingAccount, ledger: readonly LedgerEntry[] | LedgerState, req: TransferRequest): CreditResult {
  const { catchUp, state } = prepare(account, ledger, req.at)
  const balance = () => liveBalance(state, ACCOUNT_WALLET, req.at)
  const seen = state.entries.get(req.id)
  if (seen) {
    const moved = movedBy(state, seen.type === 'transfer_out' ? seen.draws : [])
    const to = seen.type === 'transfer_out' ? seen.to.replace(/^member:/, '') : req.to
    return { ok: true, duplicate: true, entries: catchUp, credits: seen.credits, balance: balance(), moved, to }
  }
  if (!isMember(account, req.to)) return { ok: false, code: 'unknown_member', entries: catchUp, balance: balance() }
  if (!Number.isSafeInteger(req.credits) || req.credits <= 0) return { ok: false, code: 'invalid_quantity', entries: catchUp, balance: balance() }
  const lots = transferableLots(state, ACCOUNT_WALLET, req.at)
  const available = lots.reduce((n, l) => n + l.remaining, 0)
  if (available < req.credits) return { ok: false, code: 'insufficient_credits', entries: catchUp, balance: available }
  const draws = draw(lots, req.credits)
  const to = memberWallet(req.to)
  const out: TransferOutEntry = { id: req.id, type: 'transfer_out', wallet: ACCOUNT_WALLET, at: req.at, credits: req.credits, to, draws }
  const inn: TransferInEntry = {
    id: `${req.id}:in`,
    type: 'transfer_in',
    wallet: to,
    at: req.at,
    credits: req.credits,
    from: ACCOUNT_WALLET,
    lots: draws.map((d, i) => ({ lot: `${req.id}:in:${i}`, source: d.lot, credits: d.credits, expiresAt: state.lots.get(d.lot)?.expiresAt ?? null })),
  }
  return {
    ok: true,
    duplicate: false,
    entries: [...catchUp, out, inn],
    credits: req.credits,
    balance: available - req.credits,
    moved: movedBy(state, draws),
    to: req.to,
  }
}

/** `POST /v1/credits/purchase`. */
export interface PurchaseRequest {
  id: string
  pack: string
  at: number
}

/**
 * Buys a credit pack of the plan in force into the account's wallet; the lot never expires. The
 * pack's invoice is derived from the entry (see `invoicesDue`).
 * @example purchase(account, log, { id: 'p1', pack: 'small', at }).credits // 1000
 */
export function purchase(account: BillingAccount, ledger: readonly LedgerEntry[] | LedgerState, req: PurchaseRequest): CreditResult {
  const { catchUp, state } = prepare(account, ledger, req.at)
  const balance = () => liveBalance(state, ACCOUNT_WALLET, req.at)
  const seen = state.entries.get(req.id)
  if (seen)
    return { ok: true, duplicate: true, entries: catchUp, credits: seen.credits, balance: balance(), pack: seen.type === 'purchase' ? seen.pack : req.pack }
  const plan = planAt(account, req.at)
  const pack = plan && Object.hasOwn(plan.creditPacks, req.pack) ? plan.creditPacks[req.pack] : undefined
  if (!plan || !pack) return { ok: false, code: 'unknown_pack', entries: catchUp, balance: balance() }
  const entry: PurchaseEntry = {
    id: req.id,
    type: 'purchase',
    wallet: ACCOUNT_WALLET,
    at: req.at,
    credits: pack.credits,
    lot: req.id,
    pack: req.pack,
    price: pack.price,
    currency: plan.currency,
  }
  return { ok: true, duplicate: false, entries: [...catchUp, entry], credits: pack.credits, balance: balance() + pack.credits, pack: req.pack }
}
