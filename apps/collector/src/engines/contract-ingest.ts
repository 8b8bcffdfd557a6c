/**
 * The repository contract's ingest part (billable units, chat events and conversations, daily
 * counts), run by `describeRepository` (./contract.ts) on each engine's database.
 */
import { describe, expect, it } from 'vitest'
import type { ConversationState } from '@tally/billing'
import type { ConversationRecord, Engine, Repository } from './repository.js'
import { T, state } from './contract-fixtures.js'

export function describeIngestContract(current: () => Engine): void {
  const engine: Pick<Engine, 'read' | 'transaction'> = { read: (fn) => current().read(fn), transaction: (fn) => current().transaction(fn) }
  const tx = <R>(fn: (r: Repository) => Promise<R>): Promise<R> => engine.transaction(fn)

  describe('billable units', () => {
    it('says per row whether the unit is new: the same session and subject again is not, whatever its event id', async () => {
      const u = (session: string, subject: string, eventId: string, kind: 'campaign' | 'advisor' = 'campaign') => ({ kind, session, subject, eventId, time: T })
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
      expect((await engine.read((r) => r.chatTail('acme', 'ctr', 'c1', 10))).at(-1)).toEqual({ id: 'z', phase: 'start', time: T, receivedAt: T, state: st(1) })
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
}
