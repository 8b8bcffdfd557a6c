/**
 * The repository contract (./repository.ts) as a test suite, run against every engine:
 * `describeRepository('SQLite', open)` in ./sqlite/contract.test.ts, and the same call with
 * another engine's `open` runs the same tests there. Not part of the build.
 */
import { describe, expect, it, beforeEach, afterEach } from 'vitest'
import type { ConversationState, Invoice, LedgerEntry } from '@tally/billing'
import { StoreUnavailable, type ConversationRecord, type Engine, type LedgerKey, type RejectionPage, type Repository } from './repository.js'

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
