/**
 * The repository contract (./repository.ts) as a test suite, run against every engine:
 * `describeRepository('SQLite', open)` in ./sqlite/contract.test.ts, and the same call with
 * another engine's `open` runs the same tests there. Not part of the build.
 */
import { describe, expect, it, beforeEach, afterEach } from 'vitest'
import type { ConversationState } from '@tally/billing'
import {
  type ConversationCursor,
  type ConversationRecord,
  type Engine,
  type RejectionPage,
  type Repository,
  StoreUnavailable,
  type UnitCursor,
  type UsageEventCursor,
} from './repository.js'
import { T, state } from './contract-fixtures.js'
import { describeMoneyContract } from './contract-money.js'

export interface OpenedEngine {
  engine: Engine
  /** Closes the engine and removes what the test created. */
  dispose(): Promise<void>
}

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
        await expect(
          tx(async (r) => {
            await r.insertUnits('acme', 'ctr', [{ kind: 'campaign', session: 's', subject: 'cmp', eventId: 'e1', time: T }])
            await r.addRollups('acme', [{ day: '2026-07-20', container: 'ctr', kind: 'campaign', subject: 'cmp', units: 1 }])
            throw boom
          }),
        ).rejects.toBe(boom)
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
        expect(
          await tx((r) =>
            r.insertUnits('acme', 'ctr', [
              { kind: 'campaign', session: 'bad', subject: 'cmp', eventId: 'b2', time: T },
              { kind: 'campaign', session: 'good', subject: 'cmp', eventId: 'g2', time: T },
            ]),
          ),
        ).toEqual([true, false])
      })

      it('answers StoreUnavailable once closed', async () => {
        await engine.close()
        await expect(tx((r) => r.ping())).rejects.toBeInstanceOf(StoreUnavailable)
        await expect(engine.read((r) => r.ping())).rejects.toBeInstanceOf(StoreUnavailable)
      })
    })

    describe('billable units', () => {
      it('says per row whether the unit is new: the same session and subject again is not, whatever its event id', async () => {
        const u = (session: string, subject: string, eventId: string, kind: 'campaign' | 'advisor' = 'campaign') => ({
          kind,
          session,
          subject,
          eventId,
          time: T,
        })
        expect(await tx((r) => r.insertUnits('acme', 'ctr', [u('s1', 'a', 'e1'), u('s1', 'a', 'e2'), u('s2', 'a', 'e3'), u('s1', 'b', 'e4')]))).toEqual([
          true,
          false,
          true,
          true,
        ])
        expect(await tx((r) => r.insertUnits('acme', 'ctr', [u('s1', 'a', 'e1'), u('s1', 'a', 'e9', 'advisor')]))).toEqual([false, true])
        expect(await tx((r) => r.insertUnits('acme', 'ctr2', [u('s1', 'a', 'e1')]))).toEqual([true])
      })
    })

    describe('chat', () => {
      it('keys phase events by conversation and id, and gives them back with their receipt time', async () => {
        const e = (conversation: string, eventId: string, time: number) => ({ conversation, eventId, phase: 'ping' as const, time, receivedAt: time + 5 })
        expect(await tx((r) => r.insertChatEvents('acme', 'ctr', [e('c1', 'a', T), e('c1', 'b', T + 1), e('c1', 'a', T + 2), e('c2', 'a', T)]))).toEqual([
          true,
          true,
          false,
          true,
        ])
        const events = await engine.read((r) => r.chatEvents('acme', 'ctr', 'c1'))
        expect([...events].sort((x, y) => x.time - y.time)).toEqual([
          { id: 'a', phase: 'ping', time: T, receivedAt: T + 5 },
          { id: 'b', phase: 'ping', time: T + 1, receivedAt: T + 6 },
        ])
      })

      it('gives the last events of a conversation in fold order, newest first, with the states set on them', async () => {
        const st = (events: number): ConversationState => ({
          startedAt: T,
          lastEventAt: T,
          latestAt: T,
          endedAt: null,
          closed: false,
          active: true,
          botMs: events,
          firstReceivedAt: T,
          lastReceivedAt: T,
          events,
        })
        const e = (eventId: string, phase: 'start' | 'ping' | 'handoff' | 'end', time: number, state: ConversationState | null = null) => ({
          conversation: 'c1',
          eventId,
          phase,
          time,
          receivedAt: time,
          state,
        })
        // At one instant: start, then ping, then handoff, then end; then by id (as bytes: 'B' before 'a').
        await tx((r) =>
          r.insertChatEvents(
            'acme',
            'ctr',
            [
              e('z', 'start', T, st(1)),
              e('a', 'ping', T + 1),
              e('B', 'ping', T + 1),
              e('y', 'end', T + 1),
              e('x', 'handoff', T + 1),
              e('other', 'ping', T + 9),
            ].map((x, i) => (i === 5 ? { ...x, conversation: 'c2' } : x)),
          ),
        )
        await tx((r) => r.saveChatStates('acme', 'ctr', 'c1', [{ eventId: 'a', state: st(3) }]))
        const tail = await engine.read((r) => r.chatTail('acme', 'ctr', 'c1', 4))
        expect(tail.map((t) => t.id)).toEqual(['y', 'x', 'a', 'B'])
        expect(tail[2]).toEqual({ id: 'a', phase: 'ping', time: T + 1, receivedAt: T + 1, state: st(3) })
        expect(tail[3]?.state).toBeNull()
        expect((await engine.read((r) => r.chatTail('acme', 'ctr', 'c1', 10))).at(-1)).toEqual({
          id: 'z',
          phase: 'start',
          time: T,
          receivedAt: T,
          state: st(1),
        })
      })

      it('stores a conversation and its folded state as they are, and replaces them', async () => {
        const rec: ConversationRecord = { conversation: 'c1', bot: 'bot', session: 's', day: '2026-07-20', sessions: 1, status: 'open', state: state() }
        await tx((r) => r.saveConversations('acme', 'ctr', [rec]))
        expect(await engine.read((r) => r.conversationRecords('acme', 'ctr', ['c1', 'nope']))).toEqual([rec])
        const ended = { ...rec, sessions: 2, status: 'ended' as const, state: state({ endedAt: T + 60_000, closed: true, active: false, events: 3 }) }
        await tx((r) => r.saveConversations('acme', 'ctr', [ended]))
        expect(await engine.read((r) => r.conversationRecords('acme', 'ctr', ['c1']))).toEqual([ended])
        expect(await engine.read((r) => r.conversations('acme', T, T + 1))).toEqual([
          {
            container: 'ctr',
            conversation: 'c1',
            bot: 'bot',
            session: 's',
            startedAt: T,
            day: '2026-07-20',
            lastEventAt: T + 60_000,
            endedAt: T + 60_000,
            status: 'ended',
            botMs: 60_000,
            sessions: 2,
          },
        ])
        expect(await engine.read((r) => r.conversations('other', 0, T + 1))).toEqual([])
      })

      it('keeps whether a conversation was opened by a suspicious session', async () => {
        const rec: ConversationRecord = {
          conversation: 'c1',
          bot: 'bot',
          session: 's',
          day: '2026-07-20',
          sessions: 1,
          status: 'open',
          state: state(),
          suspicious: true,
        }
        await tx((r) => r.saveConversations('acme', 'ctr', [rec]))
        await tx((r) => r.saveConversations('acme', 'ctr', [{ ...rec, sessions: 2 }]))
        expect(await engine.read((r) => r.conversationRecords('acme', 'ctr', ['c1']))).toEqual([{ ...rec, sessions: 2 }])
      })

      it('marks open conversations quiet since before an instant as idle, and only those', async () => {
        const rec = (conversation: string, last: number, status: ConversationRecord['status'] = 'open'): ConversationRecord => ({
          conversation,
          bot: 'bot',
          session: 's',
          day: '2026-07-20',
          sessions: 0,
          status,
          state: state({ lastEventAt: last }),
        })
        await tx((r) => r.saveConversations('acme', 'ctr', [rec('old', T), rec('new', T + 10), rec('done', T, 'ended')]))
        expect(await tx((r) => r.markIdleConversations(T + 5))).toBe(1)
        const statuses = (await engine.read((r) => r.conversationRecords('acme', 'ctr', ['old', 'new', 'done']))).map((c) => [c.conversation, c.status]).sort()
        expect(statuses).toEqual([
          ['done', 'ended'],
          ['new', 'open'],
          ['old', 'idle'],
        ])
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
        expect(await engine.read((r) => r.rollups('acme', '2026-07-20', '2026-07-21'))).toEqual([{ ...s, kind: 'campaign', subject: 'cmp', units: 2 }, s])
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
        // The latest reading before a day: Jul 22 has none, so Jul 20's highest.
        expect(await engine.read((r) => r.lastContacts('acme', '2026-07-23'))).toBe(800)
        expect(await engine.read((r) => r.lastContacts('acme', '2026-07-20'))).toBeNull()
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
        for (let after: C | null = null; ; ) {
          const rows = await page(after)
          if (rows.length === 0) return pages
          pages.push(rows)
          after = cursor(rows[rows.length - 1] as R)
        }
      }

      it("pages a container's units of a time range in (time, session, subject) order, each once", async () => {
        const u = (session: string, subject: string, time: number, kind: 'campaign' | 'advisor' = 'campaign') => ({
          kind,
          session,
          subject,
          eventId: `e-${session}-${subject}`,
          time,
        })
        await tx((r) =>
          r.insertUnits('acme', 'ctr', [
            u('s2', 'a', T),
            u('s1', 'b', T),
            u('s1', 'a', T),
            u('s3', 'a', T + 5),
            u('s0', 'a', T - 1),
            u('s4', 'a', T + 10),
            u('s5', 'a', T, 'advisor'),
          ]),
        )
        await tx((r) => r.insertUnits('acme', 'ctr2', [u('s9', 'a', T)]))
        const pages = await all(
          (after: UnitCursor | null) => engine.read((r) => r.unitPage('acme', 'ctr', 'campaign', T, T + 10, after, 2)),
          (x) => ({ time: x.time, session: x.session, subject: x.subject }),
        )
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
        await tx((r) =>
          r.addRollups('acme', [
            { day: '2026-07-20', container: 'ctr_b', kind: 'campaign', subject: 'cmp', units: 1 },
            { day: '2026-07-20', container: 'ctr_a', kind: 'campaign', subject: 'cmp', units: 1 },
            { day: '2026-07-21', container: 'ctr_c', kind: 'campaign', subject: 'cmp', units: 1 },
            { day: '2026-07-20', container: 'ctr_d', kind: 'advisor', subject: 'adv', units: 1 },
          ]),
        )
        await tx((r) => r.addRollups('other', [{ day: '2026-07-20', container: 'ctr_x', kind: 'campaign', subject: 'cmp', units: 1 }]))
        expect(await engine.read((r) => r.unitContainers('acme', 'campaign', '2026-07-20', '2026-07-21'))).toEqual(['ctr_a', 'ctr_b'])

        const rec = (conversation: string, startedAt: number, sessions: number): ConversationRecord => ({
          conversation,
          bot: 'bot',
          session: 's',
          day: '2026-07-20',
          sessions,
          status: 'ended',
          state: state({ startedAt }),
        })
        await tx((r) => r.saveConversations('acme', 'ctr', [rec('c3', T + 1, 1), rec('c1', T, 2), rec('c2', T, 1), rec('c0', T, 0), rec('c4', T + 9, 1)]))
        await tx((r) => r.saveConversations('other', 'ctr_o', [rec('o1', T, 1)]))
        const conversations = await all(
          (after: ConversationCursor | null) => engine.read((r) => r.conversationPage('acme', T, T + 9, after, 2)),
          (c) => ({ startedAt: c.startedAt, container: c.container, conversation: c.conversation }),
        )
        expect(conversations.flat().map((c) => [c.conversation, c.sessions])).toEqual([
          ['c1', 2],
          ['c2', 1],
          ['c3', 1],
        ])
        expect(conversations.flat()[0]).toEqual({
          container: 'ctr',
          conversation: 'c1',
          bot: 'bot',
          session: 's',
          startedAt: T,
          lastEventAt: T + 60_000,
          endedAt: null,
          firstReceivedAt: T,
          lastReceivedAt: T + 60_000,
          botMs: 60_000,
          sessions: 2,
        })

        const ev = (id: string, type: 'alert' | 'action', day: string) => ({
          id,
          type,
          day,
          time: T,
          receivedAt: T,
          quantity: 1,
          credits: type === 'action' ? 2 : 0,
          member: null,
        })
        await tx(async (r) => {
          for (const e of [
            ev('b', 'alert', '2026-07-20'),
            ev('a', 'alert', '2026-07-20'),
            ev('c', 'alert', '2026-07-19'),
            ev('d', 'action', '2026-07-20'),
            ev('z', 'alert', '2026-07-21'),
          ]) {
            await r.insertUsageEvent('acme', e)
          }
          await r.insertUsageEvent('other', ev('o', 'alert', '2026-07-20'))
        })
        const alerts = await all(
          (after: UsageEventCursor | null) => engine.read((r) => r.usageEventPage('acme', 'alert', '2026-07-19', '2026-07-21', after, 2)),
          (e) => ({ day: e.day, id: e.id }),
        )
        expect(alerts.flat().map((e) => e.id)).toEqual(['c', 'a', 'b'])
        expect(alerts.flat()[0]).toEqual(ev('c', 'alert', '2026-07-19'))
      })
    })

    describeMoneyContract(() => engine)

    describe('portal sessions and account facts', () => {
      const session = (id: string, expiresAt = T + 3_600_000) => ({
        id,
        session: null,
        member: 'alice',
        returnUrl: 'https://app.acme.test/billing',
        createdAt: T,
        expiresAt,
        openedAt: null,
      })

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
            await r.recordRejection({
              at: T + i * 60_000,
              container: 'ctr',
              account: 'acme',
              reason: 'origin_not_allowed',
              origin: `o${i}.test`,
              count: 10 - i,
            })
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

      it('writes configuration versions in seq order, numbered per object, each with its audit entry', async () => {
        expect(await engine.read((r) => r.configHead())).toBe(0)
        const written = await tx(async (r) => {
          await r.lockConfig()
          const a1 = await r.insertConfigVersion({ kind: 'account', id: 'a', body: { v: 1 }, before: null, effectiveAt: T, createdAt: T, actor: 'config file' })
          const p1 = await r.insertConfigVersion({ kind: 'plan', id: 'a', body: { p: 1 }, before: null, effectiveAt: T, createdAt: T, actor: 'config file' })
          const a2 = await r.insertConfigVersion({
            kind: 'account',
            id: 'a',
            body: { v: 2 },
            before: { v: 1 },
            effectiveAt: T + 5,
            createdAt: T + 1,
            actor: 'admin',
          })
          const a3 = await r.insertConfigVersion({
            kind: 'account',
            id: 'a',
            body: null,
            before: { v: 2 },
            effectiveAt: T + 5,
            createdAt: T + 2,
            actor: 'config file',
          })
          return [a1, p1, a2, a3]
        })
        expect(written.map((w) => [w.seq, w.kind, w.version])).toEqual([
          [1, 'account', 1],
          [2, 'plan', 1],
          [3, 'account', 2],
          [4, 'account', 3],
        ])
        expect(await engine.read((r) => r.configHead())).toBe(4)
        expect(await engine.read((r) => r.configVersions(0, 10))).toEqual(written)
        expect(await engine.read((r) => r.configVersions(1, 2))).toEqual(written.slice(1, 3))
        const history = await engine.read((r) => r.configHistory('account', 'a', 10))
        expect(history.map((h) => [h.version, h.actor, h.before, h.body, h.effectiveAt])).toEqual([
          [3, 'config file', { v: 2 }, null, T + 5],
          [2, 'admin', { v: 1 }, { v: 2 }, T + 5],
          [1, 'config file', null, { v: 1 }, T],
        ])
        expect((await engine.read((r) => r.configHistory('account', 'a', 1, 3))).map((h) => h.version)).toEqual([2])
      })

      it('keeps the config file as last applied, one row replaced', async () => {
        expect(await engine.read((r) => r.configFile())).toBeNull()
        await tx((r) => r.saveConfigFile({ plans: { a: 1 }, accounts: {} }, T))
        await tx((r) => r.saveConfigFile({ plans: { a: 2 }, accounts: {} }, T + 1))
        expect(await engine.read((r) => r.configFile())).toEqual({ plans: { a: 2 }, accounts: {} })
      })

      it('writes nothing of a configuration transaction that fails', async () => {
        await expect(
          tx(async (r) => {
            await r.lockConfig()
            await r.insertConfigVersion({ kind: 'account', id: 'x', body: { v: 1 }, before: null, effectiveAt: T, createdAt: T, actor: 'admin' })
            throw new Error('boom')
          }),
        ).rejects.toThrow('boom')
        expect(await engine.read((r) => r.configVersions(0, 10))).toEqual([])
        expect(await engine.read((r) => r.configHistory('account', 'x', 10))).toEqual([])
      })

      it('reads the changes stored before versions as none on a new database', async () => {
        expect(await engine.read((r) => r.configChanges())).toEqual([])
      })
    })
  })
}
