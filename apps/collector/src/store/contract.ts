/**
 * The repository contract (./repository.ts) as a test suite, run against every engine:
 * `describeRepository('SQLite', open)` in ./sqlite/contract.test.ts, and the same call with
 * another engine's `open` runs the same tests there. Not part of the build.
 */
import { describe, expect, it, beforeEach, afterEach } from 'vitest'
import type { ConversationState, Invoice, LedgerEntry, Lot } from '@tally/billing'
import {
  type ConversationCursor, type ConversationRecord, type CreditBookRow, type Engine, type LedgerKey, type RejectionPage, type Repository,
  StoreUnavailable, type UnitCursor, type UsageEventCursor,
} from './repository.js'

export interface OpenedEngine {
  engine: Engine
  /** Closes the engine and removes what the test created. */
  dispose(): Promise<void>
}

const T = Date.UTC(2026, 6, 20, 12, 0, 0)

const state = (over: Partial<ConversationState> = {}): ConversationState => ({
  startedAt: T, lastEventAt: T + 60_000, latestAt: T + 60_000, endedAt: null, closed: false, active: true,
  botMs: 60_000, firstReceivedAt: T, lastReceivedAt: T + 60_000, events: 2, ...over,
})

const grant = (id: string, credits = 500): LedgerEntry =>
  ({ id, type: 'grant', wallet: 'account', at: T, credits, lot: id, expiresAt: T + 86_400_000 })

const invoice = (key: string, number: number): Invoice => ({
  key, kind: 'recurring', status: 'finalized', number, currency: 'EUR', issuedAt: T, issuedDate: '2026-07-20',
  period: null, lines: [], total: 4900,
} as unknown as Invoice)

export function describeRepository(name: string, open: () => Promise<OpenedEngine>): void {
  describe(`the ${name} repository`, () => {
    let opened: OpenedEngine
    let engine: Engine
    beforeEach(async () => {
      opened = await open()
      engine = opened.engine
    })
    afterEach(async () => {
      await opened.dispose()
    })
    const tx = <T>(fn: (r: Repository) => Promise<T>): Promise<T> => engine.transaction(fn)

    describe('transactions', () => {
      it('commits everything a transaction wrote when it resolves', async () => {
        await tx((r) => r.addRollups('acme', [{ day: '2026-07-20', container: 'ctr', kind: 'campaign', subject: 'cmp', units: 2 }]))
        expect(await engine.read((r) => r.rollups('acme', '2026-07-20', '2026-07-21'))).toEqual([
          { day: '2026-07-20', container: 'ctr', kind: 'campaign', subject: 'cmp', units: 2 },
        ])
      })

      it('writes nothing of a transaction that throws, and passes its error on', async () => {
        const boom = new Error('decided to fail')
        await expect(tx(async (r) => {
          await r.insertUnits('acme', 'ctr', [{ kind: 'campaign', session: 's', subject: 'cmp', eventId: 'e1', time: T }])
          await r.addRollups('acme', [{ day: '2026-07-20', container: 'ctr', kind: 'campaign', subject: 'cmp', units: 1 }])
          throw boom
        })).rejects.toBe(boom)
        expect(await engine.read((r) => r.rollups('acme', '2026-07-20', '2026-07-21'))).toEqual([])
        expect(await tx((r) => r.insertUnits('acme', 'ctr', [{ kind: 'campaign', session: 's', subject: 'cmp', eventId: 'e1', time: T }]))).toEqual([true])
      })

      it('keeps concurrent transactions apart: one failing does not undo another', async () => {
        const [bad, good] = await Promise.allSettled([
          tx(async (r) => {
            await r.insertUnits('acme', 'ctr', [{ kind: 'campaign', session: 'bad', subject: 'cmp', eventId: 'b', time: T }])
            throw new Error('no')
          }),
          tx((r) => r.insertUnits('acme', 'ctr', [{ kind: 'campaign', session: 'good', subject: 'cmp', eventId: 'g', time: T }])),
        ])
        expect(bad.status).toBe('rejected')
        expect(good).toEqual({ status: 'fulfilled', value: [true] })
        expect(await tx((r) => r.insertUnits('acme', 'ctr', [
          { kind: 'campaign', session: 'bad', subject: 'cmp', eventId: 'b2', time: T },
          { kind: 'campaign', session: 'good', subject: 'cmp', eventId: 'g2', time: T },
        ]))).toEqual([true, false])
      })

      it('answers StoreUnavailable once closed', async () => {
        await engine.close()
        await expect(tx((r) => r.ping())).rejects.toBeInstanceOf(StoreUnavailable)
        await expect(engine.read((r) => r.ping())).rejects.toBeInstanceOf(StoreUnavailable)
      })
    })

    describe('billable units', () => {
      it('says per row whether the unit is new: the same session and subject again is not, whatever its event id', async () => {
        const u = (session: string, subject: string, eventId: string, kind: 'campaign' | 'advisor' = 'campaign') =>
          ({ kind, session, subject, eventId, time: T })
        expect(await tx((r) => r.insertUnits('acme', 'ctr', [u('s1', 'a', 'e1'), u('s1', 'a', 'e2'), u('s2', 'a', 'e3'), u('s1', 'b', 'e4')])))
          .toEqual([true, false, true, true])
        expect(await tx((r) => r.insertUnits('acme', 'ctr', [u('s1', 'a', 'e1'), u('s1', 'a', 'e9', 'advisor')]))).toEqual([false, true])
        expect(await tx((r) => r.insertUnits('acme', 'ctr2', [u('s1', 'a', 'e1')]))).toEqual([true])
      })
    })

    describe('chat', () => {
      it('keys phase events by conversation and id, and gives them back with their receipt time', async () => {
        const e = (conversation: string, eventId: string, time: number) => ({ conversation, eventId, phase: 'ping' as const, time, receivedAt: time + 5 })
        expect(await tx((r) => r.insertChatEvents('acme', 'ctr', [e('c1', 'a', T), e('c1', 'b', T + 1), e('c1', 'a', T + 2), e('c2', 'a', T)])))
          .toEqual([true, true, false, true])
        const events = await engine.read((r) => r.chatEvents('acme', 'ctr', 'c1'))
        expect([...events].sort((x, y) => x.time - y.time)).toEqual([
          { id: 'a', phase: 'ping', time: T, receivedAt: T + 5 },
          { id: 'b', phase: 'ping', time: T + 1, receivedAt: T + 6 },
        ])
      })

      it('stores a conversation and its folded state as they are, and replaces them', async () => {
        const rec: ConversationRecord = { conversation: 'c1', bot: 'bot', session: 's', day: '2026-07-20', sessions: 1, status: 'open', state: state() }
        await tx((r) => r.saveConversations('acme', 'ctr', [rec]))
        expect(await engine.read((r) => r.conversationRecords('acme', 'ctr', ['c1', 'nope']))).toEqual([rec])
        const ended = { ...rec, sessions: 2, status: 'ended' as const, state: state({ endedAt: T + 60_000, closed: true, active: false, events: 3 }) }
        await tx((r) => r.saveConversations('acme', 'ctr', [ended]))
        expect(await engine.read((r) => r.conversationRecords('acme', 'ctr', ['c1']))).toEqual([ended])
        expect(await engine.read((r) => r.conversations('acme', T, T + 1))).toEqual([{
          container: 'ctr', conversation: 'c1', bot: 'bot', session: 's', startedAt: T, day: '2026-07-20', lastEventAt: T + 60_000,
          endedAt: T + 60_000, status: 'ended', botMs: 60_000, sessions: 2,
        }])
        expect(await engine.read((r) => r.conversations('other', 0, T + 1))).toEqual([])
      })

      it('keeps whether a conversation was opened by a suspicious session', async () => {
        const rec: ConversationRecord = {
          conversation: 'c1', bot: 'bot', session: 's', day: '2026-07-20', sessions: 1, status: 'open', state: state(), suspicious: true,
        }
        await tx((r) => r.saveConversations('acme', 'ctr', [rec]))
        await tx((r) => r.saveConversations('acme', 'ctr', [{ ...rec, sessions: 2 }]))
        expect(await engine.read((r) => r.conversationRecords('acme', 'ctr', ['c1']))).toEqual([{ ...rec, sessions: 2 }])
      })

      it('marks open conversations quiet since before an instant as idle, and only those', async () => {
        const rec = (conversation: string, last: number, status: ConversationRecord['status'] = 'open'): ConversationRecord =>
          ({ conversation, bot: 'bot', session: 's', day: '2026-07-20', sessions: 0, status, state: state({ lastEventAt: last }) })
        await tx((r) => r.saveConversations('acme', 'ctr', [rec('old', T), rec('new', T + 10), rec('done', T, 'ended')]))
        expect(await tx((r) => r.markIdleConversations(T + 5))).toBe(1)
        const statuses = (await engine.read((r) => r.conversationRecords('acme', 'ctr', ['old', 'new', 'done'])))
          .map((c) => [c.conversation, c.status]).sort()
        expect(statuses).toEqual([['done', 'ended'], ['new', 'open'], ['old', 'idle']])
      })
    })

    describe('daily counts', () => {
      it('adds deltas, negative ones too, and reads a half-open day range of one account', async () => {
        const d = (day: string, units: number, subject = 'cmp') => ({ day, container: 'ctr', kind: 'bot' as const, subject, units })
        await tx((r) => r.addRollups('acme', [d('2026-07-19', 3), d('2026-07-20', 2)]))
        await tx((r) => r.addRollups('acme', [d('2026-07-20', -1), d('2026-07-21', 4)]))
        await tx((r) => r.addRollups('other', [d('2026-07-20', 9)]))
        expect(await engine.read((r) => r.rollups('acme', '2026-07-20', '2026-07-21'))).toEqual([{ ...d('2026-07-20', 1) }])
        expect(await engine.read((r) => r.pageDaily('acme'))).toEqual([
          { day: '2026-07-19', impressions: 0, engagements: 0, chatSessions: 3 },
          { day: '2026-07-20', impressions: 0, engagements: 0, chatSessions: 1 },
          { day: '2026-07-21', impressions: 0, engagements: 0, chatSessions: 4 },
        ])
      })

      it('keeps suspicious counts in the read rows but out of what billing reads', async () => {
        const s = { day: '2026-07-20', container: 'ctr', kind: 'suspicious' as const, subject: 'campaign:cmp', units: 7 }
        await tx((r) => r.addRollups('acme', [s, { ...s, kind: 'campaign', subject: 'cmp', units: 2 }]))
        expect(await engine.read((r) => r.rollups('acme', '2026-07-20', '2026-07-21'))).toEqual([
          { ...s, kind: 'campaign', subject: 'cmp', units: 2 }, s,
        ])
        expect(await engine.read((r) => r.pageDaily('acme'))).toEqual([{ day: '2026-07-20', impressions: 2, engagements: 0, chatSessions: 0 }])
      })

      it('keeps server meters per day, contacts as the highest reading', async () => {
        await tx(async (r) => {
          await r.addUsageDaily('acme', '2026-07-20', { alerts: 1, emails: 0, contacts: null })
          await r.addUsageDaily('acme', '2026-07-20', { alerts: 0, emails: 10, contacts: 800 })
          await r.addUsageDaily('acme', '2026-07-20', { alerts: 2, emails: 5, contacts: 700 })
          await r.addUsageDaily('acme', '2026-07-22', { alerts: 1, emails: 0, contacts: null })
        })
        expect(await engine.read((r) => r.usageDaily('acme'))).toEqual([
          { day: '2026-07-20', alerts: 3, emails: 15, contacts: 800 },
          { day: '2026-07-22', alerts: 1, emails: 0 },
        ])
        expect(await engine.read((r) => r.usageDaily('acme', '2026-07-21'))).toEqual([{ day: '2026-07-22', alerts: 1, emails: 0 }])
        expect(await engine.read((r) => r.usageDaily('acme', '2026-07-01', '2026-07-22'))).toHaveLength(1)
      })

      it('finds stored usage events by id, per account', async () => {
        const row = { id: 'u:1', type: 'action' as const, day: '2026-07-20', time: T, receivedAt: T + 1, quantity: 3, credits: 6, member: 'alice' }
        await tx((r) => r.insertUsageEvent('acme', row))
        expect([...(await engine.read((r) => r.usageEvents('acme', ['u:1', 'u:2'])))]).toEqual([['u:1', row]])
        expect((await engine.read((r) => r.usageEvents('other', ['u:1']))).size).toBe(0)
      })
    })

    describe('evidence pages', () => {
      /** Every page of a keyset read, `limit` rows at a time. */
      const all = async <R, C>(page: (after: C | null) => Promise<R[]>, cursor: (r: R) => C): Promise<R[][]> => {
        const pages: R[][] = []
        for (let after: C | null = null; ;) {
          const rows = await page(after)
          if (rows.length === 0) return pages
          pages.push(rows)
          after = cursor(rows[rows.length - 1] as R)
        }
      }

      it('pages a container\'s units of a time range in (time, session, subject) order, each once', async () => {
        const u = (session: string, subject: string, time: number, kind: 'campaign' | 'advisor' = 'campaign') =>
          ({ kind, session, subject, eventId: `e-${session}-${subject}`, time })
        await tx((r) => r.insertUnits('acme', 'ctr', [
          u('s2', 'a', T), u('s1', 'b', T), u('s1', 'a', T), u('s3', 'a', T + 5), u('s0', 'a', T - 1), u('s4', 'a', T + 10), u('s5', 'a', T, 'advisor'),
        ]))
        await tx((r) => r.insertUnits('acme', 'ctr2', [u('s9', 'a', T)]))
        const pages = await all((after: UnitCursor | null) => engine.read((r) => r.unitPage('acme', 'ctr', 'campaign', T, T + 10, after, 2)),
          (x) => ({ time: x.time, session: x.session, subject: x.subject }))
        expect(pages.map((p) => p.length)).toEqual([2, 2])
        expect(pages.flat()).toEqual([
          { container: 'ctr', session: 's1', subject: 'a', eventId: 'e-s1-a', time: T },
          { container: 'ctr', session: 's1', subject: 'b', eventId: 'e-s1-b', time: T },
          { container: 'ctr', session: 's2', subject: 'a', eventId: 'e-s2-a', time: T },
          { container: 'ctr', session: 's3', subject: 'a', eventId: 'e-s3-a', time: T + 5 },
        ])
        expect(await engine.read((r) => r.unitPage('acme', 'ctr', 'advisor', T, T + 1, null, 10))).toEqual([
          { container: 'ctr', session: 's5', subject: 'a', eventId: 'e-s5-a', time: T },
        ])
      })

      it('names the containers whose rollups hold units of a day range, and pages conversations with sessions and usage events', async () => {
        await tx((r) => r.addRollups('acme', [
          { day: '2026-07-20', container: 'ctr_b', kind: 'campaign', subject: 'cmp', units: 1 },
          { day: '2026-07-20', container: 'ctr_a', kind: 'campaign', subject: 'cmp', units: 1 },
          { day: '2026-07-21', container: 'ctr_c', kind: 'campaign', subject: 'cmp', units: 1 },
          { day: '2026-07-20', container: 'ctr_d', kind: 'advisor', subject: 'adv', units: 1 },
        ]))
        await tx((r) => r.addRollups('other', [{ day: '2026-07-20', container: 'ctr_x', kind: 'campaign', subject: 'cmp', units: 1 }]))
        expect(await engine.read((r) => r.unitContainers('acme', 'campaign', '2026-07-20', '2026-07-21'))).toEqual(['ctr_a', 'ctr_b'])

        const rec = (conversation: string, startedAt: number, sessions: number): ConversationRecord =>
          ({ conversation, bot: 'bot', session: 's', day: '2026-07-20', sessions, status: 'ended', state: state({ startedAt }) })
        await tx((r) => r.saveConversations('acme', 'ctr', [rec('c3', T + 1, 1), rec('c1', T, 2), rec('c2', T, 1), rec('c0', T, 0), rec('c4', T + 9, 1)]))
        await tx((r) => r.saveConversations('other', 'ctr_o', [rec('o1', T, 1)]))
        const conversations = await all((after: ConversationCursor | null) => engine.read((r) => r.conversationPage('acme', T, T + 9, after, 2)),
          (c) => ({ startedAt: c.startedAt, container: c.container, conversation: c.conversation }))
        expect(conversations.flat().map((c) => [c.conversation, c.sessions])).toEqual([['c1', 2], ['c2', 1], ['c3', 1]])
        expect(conversations.flat()[0]).toEqual({
          container: 'ctr', conversation: 'c1', bot: 'bot', session: 's', startedAt: T, lastEventAt: T + 60_000, endedAt: null,
          firstReceivedAt: T, lastReceivedAt: T + 60_000, botMs: 60_000, sessions: 2,
        })

        const ev = (id: string, type: 'alert' | 'action', day: string) =>
          ({ id, type, day, time: T, receivedAt: T, quantity: 1, credits: type === 'action' ? 2 : 0, member: null })
        await tx(async (r) => {
          for (const e of [ev('b', 'alert', '2026-07-20'), ev('a', 'alert', '2026-07-20'), ev('c', 'alert', '2026-07-19'), ev('d', 'action', '2026-07-20'), ev('z', 'alert', '2026-07-21')]) {
            await r.insertUsageEvent('acme', e)
          }
          await r.insertUsageEvent('other', ev('o', 'alert', '2026-07-20'))
        })
        const alerts = await all((after: UsageEventCursor | null) => engine.read((r) => r.usageEventPage('acme', 'alert', '2026-07-19', '2026-07-21', after, 2)),
          (e) => ({ day: e.day, id: e.id }))
        expect(alerts.flat().map((e) => e.id)).toEqual(['c', 'a', 'b'])
        expect(alerts.flat()[0]).toEqual(ev('c', 'alert', '2026-07-19'))
      })
    })

    describe('the credit log', () => {
      it('appends in order, skips an entry whose key is stored, and moves its head', async () => {
        expect(await engine.read((r) => r.ledgerHead('acme'))).toBe(0)
        const key = (ref: string, leg: LedgerKey['leg'] = ''): LedgerKey => ({ source: 'grant', ref, leg })
        const h1 = await tx((r) => r.appendLedger('acme', [{ key: key('g1'), entry: grant('g1') }, { key: key('g2'), entry: grant('g2') }]))
        const h2 = await tx((r) => r.appendLedger('acme', [{ key: key('g1'), entry: grant('g1', 999) }]))
        expect(h1).toBeGreaterThan(0)
        expect(h2).toBe(h1)
        expect(await engine.read((r) => r.ledger('acme'))).toEqual([grant('g1'), grant('g2')])
        expect(await engine.read((r) => r.ledger('other'))).toEqual([])
      })

      it('keeps keys apart by their columns, whatever characters the client ids hold', async () => {
        const out = (ref: string): LedgerKey => ({ source: 'transfer', ref, leg: 'out' })
        const inn = (ref: string): LedgerKey => ({ source: 'transfer', ref, leg: 'in' })
        await tx((r) => r.appendLedger('acme', [
          { key: out('a'), entry: grant('x1') }, { key: inn('a'), entry: grant('x2') },
          { key: out('a:in'), entry: grant('x3') }, { key: inn('a:in'), entry: grant('x4') },
        ]))
        expect((await engine.read((r) => r.ledger('acme'))).map((e) => e.id)).toEqual(['x1', 'x2', 'x3', 'x4'])
      })
    })

    describe('the open ledger', () => {
      const lot = (id: string, remaining: number, more: Partial<Lot> = {}): Lot & { open: boolean } => ({
        lot: id, wallet: 'account', kind: 'free', at: T, expiresAt: T + 86_400_000, remaining, expired: false, open: remaining > 0, ...more,
      })
      const book = (head: number): CreditBookRow => ({
        head, dueThrough: T, wallets: ['account', 'member:alice'], totals: { granted: 500, purchased: 1000, spent: 3, expired: 0 },
      })

      it('stores the head row and answers it, null before the first', async () => {
        expect(await engine.read((r) => r.creditBook('acme'))).toBeNull()
        await tx((r) => r.saveCreditBook('acme', { ...book(7), dueThrough: null }, []))
        expect(await engine.read((r) => r.creditBook('acme'))).toEqual({ ...book(7), dueThrough: null })
        await tx((r) => r.saveCreditBook('acme', book(9), []))
        expect(await engine.read((r) => r.creditBook('acme'))).toEqual(book(9))
        expect(await engine.read((r) => r.creditBook('other'))).toBeNull()
      })

      it('lists the open lots only, in the order they were first stored, and any lot by id', async () => {
        await tx((r) => r.saveCreditBook('acme', book(1), [lot('grant:0', 500), lot('p1', 1000, { kind: 'purchased', expiresAt: null })]))
        await tx((r) => r.saveCreditBook('acme', book(2), [lot('grant:0', 0, { expired: true }), lot('b', 10), lot('a', 20)]))
        await tx((r) => r.saveCreditBook('other', book(1), [lot('z', 5)]))
        // `grant:0` closed, stored first; `p1` kept its place; `b` and `a` follow in the order given.
        expect(await engine.read((r) => r.openLots('acme'))).toEqual([
          { lot: 'p1', wallet: 'account', kind: 'purchased', at: T, expiresAt: null, remaining: 1000, expired: false },
          { lot: 'b', wallet: 'account', kind: 'free', at: T, expiresAt: T + 86_400_000, remaining: 10, expired: false },
          { lot: 'a', wallet: 'account', kind: 'free', at: T, expiresAt: T + 86_400_000, remaining: 20, expired: false },
        ])
        const byId = await engine.read((r) => r.creditLots('acme', ['grant:0', 'nope']))
        expect(byId).toEqual([{ lot: 'grant:0', wallet: 'account', kind: 'free', at: T, expiresAt: T + 86_400_000, remaining: 0, expired: true }])
        expect(await engine.read((r) => r.creditLots('acme', []))).toEqual([])
      })

      it('finds stored entries by their key columns', async () => {
        await tx((r) => r.appendLedger('acme', [
          { key: { source: 'transfer', ref: 'a', leg: 'out' }, entry: grant('x1') },
          { key: { source: 'transfer', ref: 'a', leg: 'in' }, entry: grant('x2') },
        ]))
        expect(await engine.read((r) => r.ledgerEntries('acme', [{ source: 'transfer', ref: 'a', leg: 'out' }]))).toEqual([grant('x1')])
        expect(await engine.read((r) => r.ledgerEntries('acme', [{ source: 'action', ref: 'a', leg: '' }]))).toEqual([])
        expect(await engine.read((r) => r.ledgerEntries('other', [{ source: 'transfer', ref: 'a', leg: 'in' }]))).toEqual([])
        expect(await engine.read((r) => r.ledgerEntries('acme', []))).toEqual([])
      })

      it('writes nothing of it when the transaction fails', async () => {
        await expect(tx(async (r) => {
          await r.saveCreditBook('acme', book(1), [lot('g', 5)])
          throw new Error('boom')
        })).rejects.toThrow('boom')
        expect(await engine.read((r) => r.creditBook('acme'))).toBeNull()
        expect(await engine.read((r) => r.openLots('acme'))).toEqual([])
      })
    })

    describe('invoices', () => {
      it('gives finalized invoices in number order, all or by key', async () => {
        await tx((r) => r.insertInvoices('acme', [invoice('recurring:1', 2), invoice('recurring:0', 1)], T))
        expect((await engine.read((r) => r.invoices('acme'))).map((i) => i.key)).toEqual(['recurring:0', 'recurring:1'])
        expect((await engine.read((r) => r.invoices('acme', ['recurring:1', 'recurring:7']))).map((i) => i.number)).toEqual([2])
        expect(await engine.read((r) => r.invoices('other'))).toEqual([])
      })

      it('refuses a second invoice with a stored key or number', async () => {
        await tx((r) => r.insertInvoices('acme', [invoice('recurring:0', 1)], T))
        await expect(tx((r) => r.insertInvoices('acme', [invoice('recurring:0', 2)], T))).rejects.toThrow()
        await expect(tx((r) => r.insertInvoices('acme', [invoice('recurring:1', 1)], T))).rejects.toThrow()
        expect(await engine.read((r) => r.invoices('acme'))).toHaveLength(1)
      })
    })

    describe('email grants', () => {
      it('stores a grant once per id, answers the stored one, and reads grants by month range, per account', async () => {
        const g = { id: 'g1', month: '2026-07-12', emails: 5000, note: 'launch', grantedAt: T, pack: null, price: null, currency: null }
        expect(await tx((r) => r.insertEmailGrant('acme', g))).toEqual({ grant: g, created: true })
        expect(await tx((r) => r.insertEmailGrant('acme', { ...g, emails: 1, note: null }))).toEqual({ grant: g, created: false })
        const bought = { ...g, id: 'g2', month: '2026-08-12', note: null, pack: 'big', price: 1500, currency: 'EUR' }
        await tx((r) => r.insertEmailGrant('acme', bought))
        await tx((r) => r.insertEmailGrant('other', { ...g, id: 'g3' }))
        expect((await engine.read((r) => r.emailGrants('acme', '2026-07-01', '2026-08-12'))).map((x) => x.id)).toEqual(['g1'])
        expect(await engine.read((r) => r.emailGrants('acme', '', '9999-12-31'))).toEqual([g, bought])
      })
    })

    describe('portal sessions and account facts', () => {
      const session = (id: string, expiresAt = T + 3_600_000) =>
        ({ id, session: null, member: 'alice', returnUrl: 'https://app.acme.test/billing', createdAt: T, expiresAt, openedAt: null })

      it('opens a link once, before it expires, and finds the session by its cookie digest', async () => {
        await tx((r) => r.insertPortalSession('acme', session('link1')))
        await tx((r) => r.insertPortalSession('acme', session('link2', T + 10)))
        expect(await tx((r) => r.openPortalLink('other', 'link1', 'cookie1', T + 1))).toBeNull()
        expect(await tx((r) => r.openPortalLink('acme', 'link1', 'cookie1', T + 1))).toEqual({ ...session('link1'), session: 'cookie1', openedAt: T + 1 })
        expect(await tx((r) => r.openPortalLink('acme', 'link1', 'cookie9', T + 2))).toBeNull()
        expect(await tx((r) => r.openPortalLink('acme', 'link2', 'cookie2', T + 10))).toBeNull()
        expect(await engine.read((r) => r.portalSession('acme', 'cookie1'))).toMatchObject({ id: 'link1', member: 'alice' })
        expect(await engine.read((r) => r.portalSession('acme', 'cookie9'))).toBeNull()
        expect(await engine.read((r) => r.portalSession('other', 'cookie1'))).toBeNull()
        expect(await tx((r) => r.prunePortalSessions('acme', T + 11))).toBe(1)
        expect(await engine.read((r) => r.portalSession('acme', 'cookie1'))).not.toBeNull()
      })

      it('keeps a fact once per kind and id, answers the stored one, and lists a kind oldest first', async () => {
        const f = (id: string, at: number, body: unknown) => ({ kind: 'payment' as const, id, at, body })
        expect(await tx((r) => r.insertFact('acme', f('b', T + 1, { status: 'failed' })))).toEqual({ fact: f('b', T + 1, { status: 'failed' }), created: true })
        expect(await tx((r) => r.insertFact('acme', f('b', T + 9, { status: 'paid' })))).toEqual({ fact: f('b', T + 1, { status: 'failed' }), created: false })
        await tx((r) => r.insertFact('acme', f('a', T + 2, { status: 'paid', nested: { x: [1, 2] } })))
        await tx((r) => r.insertFact('acme', { kind: 'billing_details', id: 'a', at: T, body: { company: 'Acme' } }))
        await tx((r) => r.insertFact('other', f('c', T, {})))
        expect((await engine.read((r) => r.facts('acme', 'payment'))).map((x) => x.id)).toEqual(['b', 'a'])
        expect(await engine.read((r) => r.fact('acme', 'payment', 'a'))).toEqual(f('a', T + 2, { status: 'paid', nested: { x: [1, 2] } }))
        expect(await engine.read((r) => r.fact('acme', 'portal_action', 'a'))).toBeNull()
      })
    })

    describe('the webhook outbox', () => {
      const endpoint = (id: string) => ({ id, url: `https://hooks.test/${id}`, secret: `whsec_${id}`, createdAt: T })
      const event = (key: string, id = `evt_${key}`) => ({ key, id, type: 'credits.purchased', created: T, data: { key } })
      const heads = async (now: number) =>
        (await engine.read((r) => r.dueDeliveries(now, 10))).map((d) => `${d.account}:${d.endpoint}:${d.event.id}`).sort()

      it('numbers an account\'s events in order, writes a fact once, and gives each endpoint a pending delivery', async () => {
        await tx((r) => r.insertWebhookEndpoint('acme', endpoint('we_a')))
        await tx((r) => r.insertWebhookEndpoint('acme', endpoint('we_b')))
        expect(await tx((r) => r.insertOutboxEvent('acme', event('k1')))).toBe(true)
        expect(await tx((r) => r.insertOutboxEvent('acme', event('k1', 'evt_other')))).toBe(false)
        expect(await tx((r) => r.insertOutboxEvent('acme', event('k2')))).toBe(true)
        expect(await tx((r) => r.insertOutboxEvent('other', event('k1')))).toBe(true)
        const log = await engine.read((r) => r.deliveries('acme', 10))
        expect(log.map((d) => [d.seq, d.endpoint, d.status, d.event.id])).toEqual([
          [2, 'we_a', 'pending', 'evt_k2'], [2, 'we_b', 'pending', 'evt_k2'], [1, 'we_a', 'pending', 'evt_k1'], [1, 'we_b', 'pending', 'evt_k1'],
        ])
        expect(log[0]?.event).toEqual({ id: 'evt_k2', type: 'credits.purchased', created: T, data: { key: 'k2' } })
        expect((await engine.read((r) => r.deliveries('acme', 10, 2))).map((d) => d.seq)).toEqual([1, 1])
        // The other account has no endpoint: its event waits in the outbox with no delivery.
        expect(await engine.read((r) => r.deliveries('other', 10))).toEqual([])
      })

      it('hands out only the oldest pending delivery of each endpoint, once it is due', async () => {
        await tx((r) => r.insertWebhookEndpoint('acme', endpoint('we_a')))
        await tx(async (r) => {
          await r.insertOutboxEvent('acme', event('k1'))
          await r.insertOutboxEvent('acme', event('k2'))
        })
        expect(await heads(T - 1)).toEqual([])
        expect(await heads(T)).toEqual(['acme:we_a:evt_k1'])
        const u = { status: 'pending' as const, attempts: 1, nextAt: T + 1000, lastAt: T, lastStatus: 500, lastError: 'HTTP 500' }
        await tx((r) => r.updateDelivery('acme', 1, 'we_a', u))
        // The head waits for its retry, and the event after it waits behind it.
        expect(await heads(T + 999)).toEqual([])
        expect(await heads(T + 1000)).toEqual(['acme:we_a:evt_k1'])
        await tx((r) => r.updateDelivery('acme', 1, 'we_a', { ...u, status: 'delivered', attempts: 2, lastStatus: 200, lastError: null }))
        expect(await heads(T + 1000)).toEqual(['acme:we_a:evt_k2'])
        expect((await engine.read((r) => r.deliveries('acme', 10))).at(-1)).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200 })
      })

      it('redelivers an event to the endpoints of now, and drops what an endpoint removed was still to get', async () => {
        await tx((r) => r.insertWebhookEndpoint('acme', endpoint('we_a')))
        await tx((r) => r.insertOutboxEvent('acme', event('k1')))
        await tx((r) => r.updateDelivery('acme', 1, 'we_a', { status: 'failed', attempts: 9, nextAt: T, lastAt: T, lastStatus: null, lastError: 'x' }))
        await tx((r) => r.insertWebhookEndpoint('acme', endpoint('we_b')))
        expect(await tx((r) => r.redeliver('acme', 'evt_k1', T + 5))).toBe(2)
        expect(await tx((r) => r.redeliver('acme', 'evt_none', T + 5))).toBeNull()
        expect(await heads(T + 5)).toEqual(['acme:we_a:evt_k1', 'acme:we_b:evt_k1'])
        expect((await engine.read((r) => r.webhookEndpoints('acme'))).map((e) => e.secret)).toEqual(['whsec_we_a', 'whsec_we_b'])
        expect(await tx((r) => r.deleteWebhookEndpoint('acme', 'we_b'))).toBe(true)
        expect(await tx((r) => r.deleteWebhookEndpoint('acme', 'we_b'))).toBe(false)
        expect(await heads(T + 5)).toEqual(['acme:we_a:evt_k1'])
      })
    })

    describe('refused beacons and configuration changes', () => {
      const page = (over: Partial<RejectionPage> = {}): RejectionPage => ({ limit: 50, offset: 0, sort: 'lastSeen', ...over })

      it('counts refusals per day, container, reason, origin and subject, with the first and last minute, for the account', async () => {
        const r1 = { at: T, container: 'ctr', account: 'acme', reason: 'origin_not_allowed', origin: 'evil.test' }
        await tx(async (r) => {
          await r.recordRejection(r1)
          await r.recordRejection({ ...r1, at: T + 61_000 })
          await r.recordRejection({ ...r1, origin: 'other.test' })
          await r.recordRejection({ ...r1, account: null, container: 'ctr_x' })
          await r.recordRejection({ ...r1, reason: 'unknown_campaign', subject: 'cmp_x', count: 5 })
        })
        expect(await engine.read((r) => r.rejections('acme', T - 1, page()))).toEqual([
          { container: 'ctr', reason: 'origin_not_allowed', origin: 'evil.test', subject: '', count: 2, firstSeen: T, lastSeen: T + 60_000 },
          { container: 'ctr', reason: 'unknown_campaign', origin: 'evil.test', subject: 'cmp_x', count: 5, firstSeen: T, lastSeen: T },
          { container: 'ctr', reason: 'origin_not_allowed', origin: 'other.test', subject: '', count: 1, firstSeen: T, lastSeen: T },
        ])
        // Last seen before `since`: left out.
        expect(await engine.read((r) => r.rejections('acme', T + 60_000, page()))).toHaveLength(1)
      })

      it('answers one page at a time, by count or by last seen, ties in key order', async () => {
        await tx(async (r) => {
          for (let i = 0; i < 7; i++) {
            await r.recordRejection({ at: T + i * 60_000, container: 'ctr', account: 'acme', reason: 'origin_not_allowed', origin: `o${i}.test`, count: 10 - i })
          }
        })
        const origins = async (p: RejectionPage) => (await engine.read((r) => r.rejections('acme', T, p))).map((x) => x.origin)
        expect(await origins(page({ sort: 'count', limit: 3 }))).toEqual(['o0.test', 'o1.test', 'o2.test'])
        expect(await origins(page({ sort: 'count', limit: 3, offset: 3 }))).toEqual(['o3.test', 'o4.test', 'o5.test'])
        expect(await origins(page({ sort: 'lastSeen', limit: 2 }))).toEqual(['o6.test', 'o5.test'])
        expect(await origins(page({ sort: 'lastSeen', limit: 5, offset: 5 }))).toEqual(['o1.test', 'o0.test'])
      })

      it('prunes day rows older than an instant, at most a given number per call', async () => {
        const DAY = 86_400_000
        await tx(async (r) => {
          for (let d = 0; d < 5; d++) {
            await r.recordRejection({ at: T - d * DAY, container: 'ctr', account: 'acme', reason: 'origin_not_allowed', origin: 'a.test' })
            await r.recordRejection({ at: T - d * DAY, container: 'ctr', account: 'acme', reason: 'origin_not_allowed', origin: 'b.test' })
          }
        })
        // Rows of the days that ended before T - 2 days: days -3 and -4, two rows each.
        const cut = Math.floor(T / DAY) * DAY - 2 * DAY
        expect(await tx((r) => r.pruneRejections(cut, 3))).toBe(3)
        expect(await tx((r) => r.pruneRejections(cut, 3))).toBe(1)
        expect(await tx((r) => r.pruneRejections(cut, 3))).toBe(0)
        const left = await engine.read((r) => r.rejections('acme', 0, page()))
        expect(left.map((x) => x.count)).toEqual([3, 3])
      })

      it('keeps the latest change per kind and id, oldest first', async () => {
        await tx(async (r) => {
          await r.saveConfigChange({ kind: 'account', id: 'a', body: { v: 1 } }, T)
          await r.saveConfigChange({ kind: 'container', id: 'c', body: { v: 2 } }, T)
          await r.saveConfigChange({ kind: 'account', id: 'a', body: { v: 3 } }, T)
        })
        expect(await engine.read((r) => r.configChanges())).toEqual([
          { kind: 'container', id: 'c', body: { v: 2 } }, { kind: 'account', id: 'a', body: { v: 3 } },
        ])
      })
    })
  })
}
