import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { growth } from './testing/plans.js'
import {
  ACCOUNT_WALLET,
  advance,
  applyEntries,
  balanceOf,
  balances,
  creditsDue,
  isOpen,
  memberWallet,
  openLedger,
  purchase,
  replay,
  spend,
  transfer,
  type CreditResult,
  type LedgerEntry,
  type LedgerState,
} from './ledger.js'
import type { BillingAccount } from './rating.js'

const account: BillingAccount = {
  timezone: 'UTC',
  plans: { growth },
  members: ['alice', 'bob'],
  subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 3, contacts: 1000 },
}
const day = (m: number, d: number, h = 12) => Date.UTC(2026, m - 1, d, h)

/** Appends a successful result's entries, failing the test on a refusal. */
function ok(log: LedgerEntry[], r: CreditResult): LedgerEntry[] {
  expect(r.ok).toBe(true)
  return [...log, ...r.entries]
}

describe('the credit log', () => {
  it('grants the free credits at the start of the period and spends them first', () => {
    let log: LedgerEntry[] = []
    log = ok(log, purchase(account, log, { id: 'p1', pack: 'small', at: day(7, 13) }))
    const r = spend(account, log, { id: 'e1', action: 'ai', quantity: 3, at: day(7, 14) })
    expect(r).toMatchObject({ ok: true, credits: 30, balance: 1470 })
    const s = r.entries.find((e) => e.type === 'spend')
    expect(s?.type === 'spend' && s.draws).toEqual([{ lot: 'grant:0', credits: 30 }])
  })

  it('gone at the cycle end: free credits expire, purchased ones are kept (seed 003)', () => {
    let log: LedgerEntry[] = []
    log = ok(log, purchase(account, log, { id: 'p1', pack: 'small', at: day(7, 20) }))
    log = ok(log, spend(account, log, { id: 'e1', action: 'sms', quantity: 50, at: day(7, 21) }))
    expect(balanceOf(log, ACCOUNT_WALLET, day(8, 11))).toBe(400 + 1000)
    const due = creditsDue(account, log, Date.UTC(2026, 7, 12))
    expect(due.map((e) => [e.type, e.id, e.credits])).toEqual([
      ['expiry', 'expiry:grant:0', 400],
      ['grant', 'grant:1', 500],
    ])
    log = [...log, ...due]
    expect(balances(log, Date.UTC(2026, 7, 12)).account?.lots.map((l) => [l.lot, l.remaining])).toEqual([
      ['p1', 1000],
      ['grant:1', 500],
    ])
    expect(balanceOf(log, ACCOUNT_WALLET, Date.UTC(2026, 7, 12))).toBe(1500)
  })

  it('draws free credits first, then purchased lots oldest first, naming each lot', () => {
    let log: LedgerEntry[] = []
    log = ok(log, purchase(account, log, { id: 'older', pack: 'small', at: day(7, 12, 13) }))
    log = ok(log, purchase(account, log, { id: 'newer', pack: 'small', at: day(7, 12, 14) }))
    const r = spend(account, log, { id: 'e1', action: 'ai', quantity: 160, at: day(7, 15) })
    const s = r.entries.find((e) => e.type === 'spend')
    expect(s?.type === 'spend' && s.draws).toEqual([
      { lot: 'grant:0', credits: 500 },
      { lot: 'older', credits: 1000 },
      { lot: 'newer', credits: 100 },
    ])
  })

  it('refuses a spend it cannot pay whole and debits nothing', () => {
    const log = ok([], spend(account, [], { id: 'e1', action: 'ai', quantity: 45, at: day(7, 15) }))
    const r = spend(account, log, { id: 'e2', action: 'ai', quantity: 6, at: day(7, 16) })
    expect(r).toMatchObject({ ok: false, code: 'insufficient_credits', balance: 50 })
    expect(r.entries.some((e) => e.type === 'spend')).toBe(false)
    expect(balanceOf([...log, ...r.entries], ACCOUNT_WALLET, day(7, 16))).toBe(50)
  })

  it('a transfer cannot be reversed: no member can send credits back (seed 002)', () => {
    let log: LedgerEntry[] = []
    log = ok(log, transfer(account, log, { id: 't1', to: 'alice', credits: 100, at: day(7, 13) }))
    expect(balanceOf(log, memberWallet('alice'), day(7, 13))).toBe(100)
    expect(balanceOf(log, ACCOUNT_WALLET, day(7, 13))).toBe(400)
    expect(transfer(account, log, { id: 't2', to: 'account', credits: 100, at: day(7, 14) })).toMatchObject({ ok: false, code: 'unknown_member' })
    expect(transfer(account, log, { id: 't3', to: ACCOUNT_WALLET, credits: 1, at: day(7, 14) })).toMatchObject({ ok: false, code: 'unknown_member' })
    // Transfers only ever leave the account's wallet: one to a member takes nothing from another member.
    log = ok(log, transfer(account, log, { id: 't4', to: 'bob', credits: 50, at: day(7, 15) }))
    expect(balanceOf(log, memberWallet('alice'), day(7, 15))).toBe(100)
    expect(balanceOf(log, ACCOUNT_WALLET, day(7, 15))).toBe(350)
  })

  it('sends purchased credits first, oldest first, and they never expire in the member wallet (seed 002)', () => {
    let log: LedgerEntry[] = []
    log = ok(log, purchase(account, log, { id: 'older', pack: 'small', at: day(7, 12, 13) }))
    log = ok(log, purchase(account, log, { id: 'newer', pack: 'small', at: day(7, 12, 14) }))
    const r = transfer(account, log, { id: 't1', to: 'alice', credits: 1500, at: day(7, 13) })
    expect(r).toMatchObject({ ok: true, credits: 1500, balance: 1000, moved: { purchased: 1500, free: 0 } })
    const out = r.entries.find((e) => e.type === 'transfer_out')
    expect(out?.type === 'transfer_out' && out.draws).toEqual([
      { lot: 'older', credits: 1000 },
      { lot: 'newer', credits: 500 },
    ])
    log = ok(log, r)
    // The month's 500 free credits stayed with the account, and its own actions still spend them first.
    const s = spend(account, log, { id: 'e1', action: 'ai', quantity: 1, at: day(7, 14) })
    expect(s.entries.find((e) => e.type === 'spend')).toMatchObject({ draws: [{ lot: 'grant:0', credits: 10 }] })
    // A year on, alice still holds all 1500: nothing of hers is due to expire.
    const later = Date.UTC(2027, 7, 1)
    expect(creditsDue(account, log, later).filter((e) => e.wallet === memberWallet('alice'))).toEqual([])
    expect(balanceOf([...log, ...creditsDue(account, log, later)], memberWallet('alice'), later)).toBe(1500)
  })

  it('sends free credits only when no purchased ones are left, and those keep their expiry', () => {
    let log: LedgerEntry[] = []
    log = ok(log, purchase(account, log, { id: 'p1', pack: 'small', at: day(7, 12, 13) }))
    const r = transfer(account, log, { id: 't1', to: 'alice', credits: 1200, at: day(7, 13) })
    expect(r).toMatchObject({ ok: true, balance: 300, moved: { purchased: 1000, free: 200 } })
    const inn = r.entries.find((e) => e.type === 'transfer_in')
    expect(inn?.type === 'transfer_in' && inn.lots.map((l) => [l.source, l.credits, l.expiresAt])).toEqual([
      ['p1', 1000, null],
      ['grant:0', 200, Date.UTC(2026, 7, 12)],
    ])
    log = ok(log, r)
    const due = creditsDue(account, log, Date.UTC(2026, 7, 12))
    expect(due.filter((e) => e.type === 'expiry').map((e) => [e.wallet, e.credits])).toEqual([
      ['account', 300],
      ['member:alice', 200],
    ])
    expect(balanceOf([...log, ...due], memberWallet('alice'), Date.UTC(2026, 7, 12))).toBe(1000)
    // A retried transfer answers what the first one moved.
    expect(transfer(account, log, { id: 't1', to: 'alice', credits: 1200, at: day(7, 14) })).toMatchObject({
      ok: true,
      duplicate: true,
      moved: { purchased: 1000, free: 200 },
    })
  })

  it('pays a member action from the member wallet only', () => {
    let log: LedgerEntry[] = []
    log = ok(log, transfer(account, log, { id: 't1', to: 'alice', credits: 20, at: day(7, 13) }))
    expect(spend(account, log, { id: 'e1', action: 'ai', quantity: 2, member: 'alice', at: day(7, 14) })).toMatchObject({ ok: true, credits: 20, balance: 0 })
    expect(spend(account, log, { id: 'e2', action: 'ai', quantity: 1, member: 'bob', at: day(7, 14) })).toMatchObject({
      ok: false,
      code: 'insufficient_credits',
    })
    expect(spend(account, log, { id: 'e3', action: 'ai', quantity: 1, member: 'mallory', at: day(7, 14) })).toMatchObject({ ok: false, code: 'unknown_member' })
  })

  it('keeps the expiry of free credits sent to a member', () => {
    let log: LedgerEntry[] = []
    const r = transfer(account, log, { id: 't1', to: 'alice', credits: 100, at: day(7, 13) })
    expect(r).toMatchObject({ moved: { purchased: 0, free: 100 } })
    log = ok(log, r)
    expect(balanceOf(log, memberWallet('alice'), Date.UTC(2026, 7, 12))).toBe(0)
    const due = creditsDue(account, log, Date.UTC(2026, 7, 12))
    expect(due.filter((e) => e.type === 'expiry').map((e) => [e.wallet, e.credits])).toEqual([
      ['account', 400],
      ['member:alice', 100],
    ])
  })

  it.each([
    ['a free action', { action: 'login', quantity: 1 }, { ok: true, credits: 0, balance: 500 }],
    ['a zero quantity', { action: 'sms', quantity: 0 }, { ok: false, code: 'invalid_quantity' }],
    ['a fractional quantity', { action: 'sms', quantity: 1.5 }, { ok: false, code: 'invalid_quantity' }],
  ])('answers %s without debiting', (_, req, expected) => {
    const r = spend(account, [], { id: 'x', at: day(7, 13), ...req })
    expect(r).toMatchObject(expected)
    expect(r.entries.some((e) => e.type === 'spend')).toBe(false)
  })

  it('answers a repeated request id with the original outcome and no new entry', () => {
    const log = ok([], spend(account, [], { id: 'e1', action: 'sms', quantity: 5, at: day(7, 13) }))
    expect(spend(account, log, { id: 'e1', action: 'sms', quantity: 5, at: day(7, 13) })).toEqual({
      ok: true,
      duplicate: true,
      entries: [],
      credits: 10,
      balance: 490,
    })
  })

  it('prices actions after a cancelled subscription ended, and pays them from purchased credits only', () => {
    const ended: BillingAccount = { ...account, subscription: { ...account.subscription, cancelledAt: '2026-07-20' } }
    const log = ok([], purchase(ended, [], { id: 'p1', pack: 'small', at: day(7, 13) }))
    expect(spend(ended, log, { id: 'e1', action: 'ai', quantity: 1, at: day(9, 1) })).toMatchObject({ ok: true, credits: 10, balance: 990 })
  })

  it('refuses an unknown credit pack', () => {
    expect(purchase(account, [], { id: 'p', pack: 'huge', at: day(7, 13) })).toMatchObject({ ok: false, code: 'unknown_pack' })
  })

  it('treats actions and packs named like built-in object properties (constructor, toString) as missing from the plan', () => {
    // creditCosts has sms 2, ai 10, form 1, contact_download 1: "constructor" is not in it, so it is free.
    for (const action of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const r = spend(account, [], { id: `x-${action}`, at: day(7, 13), action, quantity: 1 })
      expect(r).toMatchObject({ ok: true, credits: 0, balance: 500 })
      expect(r.entries.some((e) => e.type === 'spend')).toBe(false)
    }
    // The only pack is "small".
    for (const pack of ['constructor', 'toString', '__proto__', 'valueOf']) {
      expect(purchase(account, [], { id: `p-${pack}`, pack, at: day(7, 13) })).toMatchObject({ ok: false, code: 'unknown_pack' })
    }
  })

  it('grants once per month of an annual term, each expiring at its month end', () => {
    const annual: BillingAccount = { ...account, subscription: { ...account.subscription, cycle: 'annual' } }
    const due = creditsDue(annual, [], Date.UTC(2026, 9, 12))
    expect(due.filter((e) => e.type === 'grant').map((e) => e.id)).toEqual(['grant:0', 'grant:1', 'grant:2', 'grant:3'])
    expect(due.filter((e) => e.type === 'expiry').map((e) => e.id)).toEqual(['expiry:grant:0', 'expiry:grant:1', 'expiry:grant:2'])
  })
})

describe('credit log properties', () => {
  type Op =
    | { kind: 'spend'; action: string; quantity: number; member?: string }
    | { kind: 'transfer'; to: string; credits: number }
    | { kind: 'purchase' }
    | { kind: 'run' }
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('spend' as const),
      action: fc.constantFrom('sms', 'ai', 'form', 'login'),
      quantity: fc.integer({ min: 1, max: 80 }),
      member: fc.option(fc.constantFrom('alice', 'bob'), { nil: undefined }),
    }),
    fc.record({ kind: fc.constant('transfer' as const), to: fc.constantFrom('alice', 'bob', 'account'), credits: fc.integer({ min: 1, max: 700 }) }),
    fc.record({ kind: fc.constant('purchase' as const) }),
    fc.record({ kind: fc.constant('run' as const) }),
  )

  it('conserves credits: granted + purchased = spent + expired + balances, in every wallet together', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(op, fc.integer({ min: 0, max: 6 * 3_600_000 })), { maxLength: 60 }), (ops) => {
        let log: LedgerEntry[] = []
        let at = Date.UTC(2026, 6, 12)
        ops.forEach(([o, step], i) => {
          at += step * 20
          const id = `r${i}`
          const r =
            o.kind === 'spend'
              ? spend(account, log, { id, action: o.action, quantity: o.quantity, member: o.member, at })
              : o.kind === 'transfer'
                ? transfer(account, log, { id, to: o.to, credits: o.credits, at })
                : o.kind === 'purchase'
                  ? purchase(account, log, { id, pack: 'small', at })
                  : { ok: true as const, duplicate: false, entries: creditsDue(account, log, at), credits: 0, balance: 0 }
          const before = replay([...log, ...r.entries.filter((e) => e.type === 'grant' || e.type === 'expiry')])
          log = [...log, ...r.entries]
          const ids = log.map((e) => e.id)
          expect(new Set(ids).size).toBe(ids.length)
          const out = r.entries.find((e) => e.type === 'transfer_out')
          if (out?.type === 'transfer_out' && r.ok) {
            // A transfer moves purchased credits before any free one, and says how many of each.
            const kinds = out.draws.map((d) => before.lots.get(d.lot)?.kind)
            const purchasedHeld =
              balances(before, at)
                .account?.lots.filter((l) => l.kind === 'purchased')
                .reduce((n, l) => n + l.remaining, 0) ?? 0
            const movedPurchased = out.draws.filter((_, k) => kinds[k] === 'purchased').reduce((n, d) => n + d.credits, 0)
            expect(movedPurchased).toBe(Math.min(purchasedHeld, out.credits))
            expect(kinds.lastIndexOf('purchased')).toBeLessThan(kinds.indexOf('free') === -1 ? Infinity : kinds.indexOf('free'))
            expect(r.moved).toEqual({ purchased: movedPurchased, free: out.credits - movedPurchased })
          }
        })
        log = [...log, ...creditsDue(account, log, at)]
        const s = replay(log)
        const held = Object.values(balances(s, at)).reduce((n, w) => n + w.balance, 0)
        expect(s.totals.granted + s.totals.purchased).toBe(s.totals.spent + s.totals.expired + held)
        for (const lot of s.lots.values()) expect(lot.remaining).toBeGreaterThanOrEqual(0)
        // Purchased credits never expire, in whichever wallet they went: they are spent or still held.
        const kindOf = (lot: string) => s.lots.get(lot)?.kind
        let spentPurchased = 0
        for (const e of log) {
          if (e.type === 'spend') for (const d of e.draws) if (kindOf(d.lot) === 'purchased') spentPurchased += d.credits
          if (e.type === 'expiry') expect(kindOf(e.lot)).toBe('free')
        }
        const heldPurchased = [...s.lots.values()].filter((l) => l.kind === 'purchased').reduce((n, l) => n + l.remaining, 0)
        expect(s.totals.purchased).toBe(spentPurchased + heldPurchased)
        // Replaying the log again, or appending it to itself, changes nothing: entries are keyed by id.
        expect(applyEntries(s, log).totals).toEqual(s.totals)
      }),
      { numRuns: 200 },
    )
  })

  it('answers from the open ledger exactly as from the whole log: every result, balance and total, repeats included', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(op, fc.integer({ min: 0, max: 6 * 3_600_000 }), fc.boolean()), { maxLength: 60 }), (ops) => {
        let log: LedgerEntry[] = []
        // What a collector keeps: the open ledger, advanced by every append, and the lots it stored.
        let open = openLedger(replay([]))
        const stored = new Map<string, ReturnType<typeof advance>['touched'][number]>()
        let at = Date.UTC(2026, 6, 12)
        ops.forEach(([o, step, repeat], i) => {
          at += step * 20
          const id = repeat && i > 0 ? `r${i - 1}` : `r${i}`
          // The open ledger with the request's own entry when it is a repeat, and the lots it drew from.
          const seen = log.find((e) => e.id === id)
          const drawn = seen?.type === 'spend' || seen?.type === 'transfer_out' ? seen.draws.map((d) => d.lot) : []
          const view: LedgerState = {
            ...open,
            lots: new Map([
              ...open.lots,
              ...drawn
                .filter((l) => !open.lots.has(l))
                .flatMap((l) => {
                  const lot = stored.get(l)
                  return lot ? [[l, lot] as const] : []
                }),
            ]),
            entries: seen ? new Map([[seen.id, seen]]) : new Map(),
          }
          const run = (ledger: readonly LedgerEntry[] | LedgerState): CreditResult =>
            o.kind === 'spend'
              ? spend(account, ledger, { id, action: o.action, quantity: o.quantity, member: o.member, at })
              : o.kind === 'transfer'
                ? transfer(account, ledger, { id, to: o.to, credits: o.credits, at })
                : o.kind === 'purchase'
                  ? purchase(account, ledger, { id, pack: 'small', at })
                  : { ok: true as const, duplicate: false, entries: creditsDue(account, ledger, at), credits: 0, balance: 0 }
          const r = run(log)
          expect(run(view)).toEqual(r)
          log = [...log, ...r.entries]
          const next = advance(view, r.entries, at)
          for (const l of next.touched) stored.set(l.lot, l)
          open = next.state
          expect(balances(open, at)).toEqual(balances(log, at))
          const full = replay(log)
          expect(open.totals).toEqual(full.totals)
          expect([...open.lots.values()]).toEqual([...full.lots.values()].filter(isOpen))
          expect(open.entries.size).toBe(0)
        })
      }),
      { numRuns: 200 },
    )
  })
})
