/**
 * The repository contract's evidence part (the keyset pages of units, conversations and usage
 * events), run by `describeRepository` (./contract.ts) on each engine's database.
 */
import { describe, expect, it } from 'vitest'
import type { ConversationCursor, ConversationRecord, Engine, Repository, UnitCursor, UsageEventCursor } from './repository.js'
import { T, state } from './contract-fixtures.js'

export function describeEvidenceContract(current: () => Engine): void {
  const engine: Pick<Engine, 'read' | 'transaction'> = { read: (fn) => current().read(fn), transaction: (fn) => current().transaction(fn) }
  const tx = <R>(fn: (r: Repository) => Promise<R>): Promise<R> => engine.transaction(fn)

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
}
