/**
 * The credit log: append-only entries from which every balance is derived. Each spend and transfer
 * names the lots it drew from, so any credit can be traced (lago-api #5525).
 *
 * Seed 003: free credits "reset at the beginning of your billing cycle" and "do not roll over";
 * "any additional credits you purchase will indeed roll over". Seed 002: "If you send the credits
 * to your team member, there will be no way of returning the credits from a team member to a team
 * manager", and "Credits cannot be converted back to real money". docs/rules.md §4: free credits are spent
 * first (soonest expiry), then purchased lots oldest first; a spend the wallet cannot pay is
 * refused whole. A transfer goes the other way round: purchased lots first (oldest first), free
 * ones only when no purchased credit is left, because seed 002 says credits bought and shared with
 * team members have "no expiration date", while free ones sent on keep their month-end expiry.
 *
 * Every function here is pure: given the log (or its replayed state, or its open ledger: the open
 * lots and what is kept of the rest, see `openLedger`) and a request, it returns the entries to
 * append, or a refusal. Ids make them idempotent: a request whose id is in the log
 * returns the original outcome and no new entry.
 */
import type { Plan } from '@tally/protocol'
import { monthSlices } from './period.js'
import { termsAt, type BillingAccount } from './rating.js'
export { purchase, transfer, transferableLots } from './ledger-moves.js'
export type { PurchaseRequest } from './ledger-moves.js'
import type { Balances, CreditResult, LedgerEntry, LedgerState, Lot, LotDraw, SpendEntry, SpendRequest } from './ledger-types.js'
export type {
  LotDraw,
  OpenMark,
  GrantEntry,
  PurchaseEntry,
  SpendEntry,
  TransferOutEntry,
  TransferInEntry,
  ExpiryEntry,
  LedgerEntry,
  Lot,
  LedgerState,
  Balances,
  CreditRefusal,
  Moved,
  CreditResult,
  SpendRequest,
  TransferRequest,
} from './ledger-types.js'

/** The account's own wallet; members' wallets are `member:<name>`. */
export const ACCOUNT_WALLET = 'account'

/**
 * The wallet of a team member.
 * @example memberWallet('alice') // 'member:alice'
 */
export function memberWallet(member: string): string {
  return `member:${member}`
}

/**
 * Replays a log into balances by lot.
 * @example replay([]).totals // { granted: 0, purchased: 0, spent: 0, expired: 0 }
 */
export function replay(log: Iterable<LedgerEntry>): LedgerState {
  const state: LedgerState = { lots: new Map(), entries: new Map(), totals: { granted: 0, purchased: 0, spent: 0, expired: 0 } }
  for (const e of log) applyOne(state, e)
  return state
}

/** A new state with `entries` appended (the given state is not changed). */
export function applyEntries(state: LedgerState, entries: Iterable<LedgerEntry>): LedgerState {
  const next: LedgerState = {
    lots: new Map([...state.lots].map(([k, l]) => [k, { ...l }])),
    entries: new Map(state.entries),
    totals: { ...state.totals },
    ...(state.open ? { open: { dueThrough: state.open.dueThrough, wallets: [...state.open.wallets] } } : {}),
  }
  for (const e of entries) applyOne(next, e)
  return next
}

/** A lot that can still move: credits left and no expiry entry yet (it may be past its expiry time). */
export const isOpen = (l: Lot): boolean => l.remaining > 0 && !l.expired

/**
 * The open ledger of a replayed log: its open lots, its wallets and its totals, without the
 * entries. The grants up to the newest one are taken as decided (`creditsDue` writes every month's
 * grant up to the instant it is asked for, so a month before the newest grant without one had none).
 */
export function openLedger(state: LedgerState): LedgerState {
  const wallets: string[] = []
  for (const l of state.lots.values()) if (!wallets.includes(l.wallet)) wallets.push(l.wallet)
  let dueThrough = Number.NEGATIVE_INFINITY
  for (const e of state.entries.values()) if (e.type === 'grant') dueThrough = Math.max(dueThrough, e.at)
  return {
    lots: new Map([...state.lots].filter(([, l]) => isOpen(l)).map(([k, l]) => [k, { ...l }])),
    entries: new Map(),
    totals: { ...state.totals },
    open: { dueThrough: state.open ? Math.max(state.open.dueThrough, dueThrough) : dueThrough, wallets },
  }
}

/**
 * An open ledger with entries appended that include every grant and expiry due by `asOf` (what
 * `spend`, `transfer`, `purchase` and `creditsDue` return): the new open ledger, and the lots the
 * entries touched, those they closed included, for the caller to store beside the entries.
 */
export function advance(state: LedgerState, entries: readonly LedgerEntry[], asOf: number): { state: LedgerState; touched: Lot[] } {
  const base = state.open ? state : openLedger(state)
  const next = applyEntries({ ...base, entries: new Map() }, entries)
  const ids = new Set<string>()
  for (const e of entries) {
    if (e.type === 'grant' || e.type === 'purchase' || e.type === 'expiry') ids.add(e.lot)
    else if (e.type === 'spend' || e.type === 'transfer_out') for (const d of e.draws) ids.add(d.lot)
    else for (const l of e.lots) ids.add(l.lot)
  }
  const touched = [...ids].flatMap((id) => {
    const l = next.lots.get(id)
    return l ? [{ ...l }] : []
  })
  const open = next.open ?? { dueThrough: Number.NEGATIVE_INFINITY, wallets: [] }
  for (const l of next.lots.values()) if (!open.wallets.includes(l.wallet)) open.wallets.push(l.wallet)
  for (const [k, l] of next.lots) if (!isOpen(l)) next.lots.delete(k)
  return { state: { ...next, entries: new Map(), open: { ...open, dueThrough: Math.max(open.dueThrough, asOf) } }, touched }
}

function applyOne(s: LedgerState, e: LedgerEntry): void {
  if (s.entries.has(e.id)) return
  s.entries.set(e.id, e)
  const draw = (draws: LotDraw[]) => {
    for (const d of draws) {
      const lot = s.lots.get(d.lot)
      if (lot) lot.remaining -= d.credits
    }
  }
  switch (e.type) {
    case 'grant':
      s.totals.granted += e.credits
      s.lots.set(e.lot, { lot: e.lot, wallet: e.wallet, kind: 'free', at: e.at, expiresAt: e.expiresAt, remaining: e.credits, expired: false })
      break
    case 'purchase':
      s.totals.purchased += e.credits
      s.lots.set(e.lot, { lot: e.lot, wallet: e.wallet, kind: 'purchased', at: e.at, expiresAt: null, remaining: e.credits, expired: false })
      break
    case 'spend':
      s.totals.spent += e.credits
      draw(e.draws)
      break
    case 'transfer_out':
      draw(e.draws)
      break
    case 'transfer_in':
      for (const l of e.lots) {
        const source = s.lots.get(l.source)
        s.lots.set(l.lot, {
          lot: l.lot,
          wallet: e.wallet,
          kind: source?.kind ?? 'purchased',
          at: e.at,
          expiresAt: l.expiresAt,
          remaining: l.credits,
          expired: false,
        })
      }
      break
    case 'expiry': {
      s.totals.expired += e.credits
      const lot = s.lots.get(e.lot)
      if (lot) {
        lot.remaining -= e.credits
        lot.expired = true
      }
      break
    }
  }
}

function stateOf(ledger: readonly LedgerEntry[] | LedgerState): LedgerState {
  return Array.isArray(ledger) ? replay(ledger) : (ledger as LedgerState)
}

function live(l: Lot, at: number): boolean {
  return l.remaining > 0 && !l.expired && (l.expiresAt === null || l.expiresAt > at)
}

/**
 * The lots a wallet can spend at `at`, in spending order: free lots by soonest expiry, then
 * purchased lots oldest first.
 */
export function spendableLots(ledger: readonly LedgerEntry[] | LedgerState, wallet: string, at: number): Lot[] {
  const s = stateOf(ledger)
  return [...s.lots.values()]
    .filter((l) => l.wallet === wallet && live(l, at))
    .sort((a, b) => {
      const ea = a.expiresAt ?? Infinity
      const eb = b.expiresAt ?? Infinity
      if (ea !== eb) return ea - eb
      if (a.at !== b.at) return a.at - b.at
      return a.lot < b.lot ? -1 : a.lot > b.lot ? 1 : 0
    })
}

/**
 * Balances by wallet and lot as they stood at `at`: the entries up to `at` replayed, and lots past
 * their expiry counting nothing even before the expiry entry is written. An open ledger (which no
 * longer holds its entries) answers for its own time: `at` at or after its newest entry.
 * @example balances(log, Date.UTC(2026, 7, 1)).account?.balance // 500
 */
export function balances(ledger: readonly LedgerEntry[] | LedgerState, at: number): Balances {
  const all = Array.isArray(ledger) ? (ledger as readonly LedgerEntry[]) : [...(ledger as LedgerState).entries.values()]
  const open = !Array.isArray(ledger) && (ledger as LedgerState).open !== undefined
  const s = open || all.every((e) => e.at <= at) ? stateOf(ledger) : replay(all.filter((e) => e.at <= at))
  const out: Balances = {}
  for (const w of s.open?.wallets ?? []) out[w] = { balance: 0, lots: [] }
  for (const l of s.lots.values()) {
    out[l.wallet] ??= { balance: 0, lots: [] }
    const w = out[l.wallet]!
    if (!live(l, at)) continue
    w.balance += l.remaining
    w.lots.push({ lot: l.lot, kind: l.kind, remaining: l.remaining, expiresAt: l.expiresAt })
  }
  return out
}

/** The balance of one wallet at `at`. */
export function balanceOf(ledger: readonly LedgerEntry[] | LedgerState, wallet: string, at: number): number {
  return balances(ledger, at)[wallet]?.balance ?? 0
}

/**
 * The grants and expiries due by `asOf`: one grant of the plan's `freeCredits` per month of the
 * anchor calendar (expiring at that month's end), and an expiry for every lot whose time has come.
 * The billing runner appends them; `spend`, `transfer` and `purchase` include them too.
 * @example creditsDue(account, [], Date.UTC(2026, 6, 12))[0]?.type // 'grant'
 */
export function creditsDue(account: BillingAccount, ledger: readonly LedgerEntry[] | LedgerState, asOf: number): LedgerEntry[] {
  const s = stateOf(ledger)
  const due: LedgerEntry[] = []
  // An open ledger has every month that started by `dueThrough` decided: the months after it are
  // found without walking those before (docs/performance.md, "Periods").
  for (const slice of monthSlices(account.subscription, account.timezone, asOf + 1, s.open?.dueThrough)) {
    const id = `grant:${slice.month}`
    if (s.entries.has(id) || (s.open && slice.start <= s.open.dueThrough)) continue
    const plan = termsAt(account, slice.start)?.terms.plan
    if (!plan || plan.freeCredits <= 0) continue
    due.push({ id, type: 'grant', wallet: ACCOUNT_WALLET, at: slice.start, credits: plan.freeCredits, lot: id, expiresAt: slice.end })
  }
  const withGrants = due.length > 0 ? applyEntries(s, due) : s
  for (const l of withGrants.lots.values()) {
    if (l.expired || l.expiresAt === null || l.expiresAt > asOf || l.remaining <= 0) continue
    due.push({ id: `expiry:${l.lot}`, type: 'expiry', wallet: l.wallet, at: l.expiresAt, credits: l.remaining, lot: l.lot })
  }
  return due.sort((a, b) => a.at - b.at || (a.type === 'expiry' ? 0 : 1) - (b.type === 'expiry' ? 0 : 1) || (a.id < b.id ? -1 : 1))
}

/** What a wallet can spend now, with every entry of the log counted. */
export function liveBalance(state: LedgerState, wallet: string, at: number): number {
  return spendableLots(state, wallet, at).reduce((n, l) => n + l.remaining, 0)
}

export function draw(lots: Lot[], credits: number): LotDraw[] {
  const draws: LotDraw[] = []
  let left = credits
  for (const l of lots) {
    if (left === 0) break
    const take = Math.min(l.remaining, left)
    draws.push({ lot: l.lot, credits: take })
    left -= take
  }
  return draws
}

/** The plan in force; outside the subscription (before it starts, after it ends) its own plan still prices credits. */
export function planAt(account: BillingAccount, at: number): Plan | undefined {
  const own = account.subscription.plan
  return termsAt(account, at)?.terms.plan ?? (Object.hasOwn(account.plans, own) ? account.plans[own] : undefined)
}

export function isMember(account: BillingAccount, member: string): boolean {
  return (account.members ?? []).includes(member)
}

/** Prepares a request: the catch-up entries and the state after them. */
export function prepare(account: BillingAccount, ledger: readonly LedgerEntry[] | LedgerState, at: number) {
  const s = stateOf(ledger)
  const catchUp = creditsDue(account, s, at)
  return { catchUp, state: catchUp.length ? applyEntries(s, catchUp) : s }
}

/**
 * Pays for an action from the acting wallet (the member's, or the account's), all or nothing.
 * Actions missing from the plan's price list are free. Seed 003: free actions "won't consume your
 * credits".
 * @example spend(account, log, { id: 'e1', action: 'sms', quantity: 1, at }) // { ok: true, credits: 2, balance: 498, ... }
 */
export function spend(account: BillingAccount, ledger: readonly LedgerEntry[] | LedgerState, req: SpendRequest): CreditResult {
  const { catchUp, state } = prepare(account, ledger, req.at)
  const wallet = req.member === undefined ? ACCOUNT_WALLET : memberWallet(req.member)
  const balance = () => liveBalance(state, wallet, req.at)
  const seen = state.entries.get(req.id)
  if (seen) return { ok: true, duplicate: true, entries: catchUp, credits: seen.credits, balance: balance() }
  if (req.member !== undefined && !isMember(account, req.member)) return { ok: false, code: 'unknown_member', entries: catchUp, balance: 0 }
  if (!Number.isSafeInteger(req.quantity) || req.quantity <= 0) return { ok: false, code: 'invalid_quantity', entries: catchUp, balance: balance() }
  const plan: Plan | undefined = planAt(account, req.at)
  // Own properties only: an action called "constructor" or "toString" is not in the price list.
  const unit = plan && Object.hasOwn(plan.creditCosts, req.action) ? plan.creditCosts[req.action] : undefined
  if (unit === undefined || unit === 0) return { ok: true, duplicate: false, entries: catchUp, credits: 0, balance: balance() }
  const credits = unit * req.quantity
  const lots = spendableLots(state, wallet, req.at)
  const available = lots.reduce((n, l) => n + l.remaining, 0)
  if (available < credits) return { ok: false, code: 'insufficient_credits', entries: catchUp, balance: available }
  const entry: SpendEntry = { id: req.id, type: 'spend', wallet, at: req.at, credits, action: req.action, quantity: req.quantity, draws: draw(lots, credits) }
  return { ok: true, duplicate: false, entries: [...catchUp, entry], credits, balance: available - credits }
}
