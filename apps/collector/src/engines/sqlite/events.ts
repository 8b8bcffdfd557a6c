/**
 * What the page's events write and read on SQLite: units, chat events and conversations, daily
 * rollups, rejections and the evidence pages over them (./repository.ts adds the accounts' billing
 * tables), over the statements of ./statements.ts.
 */
import type { ConversationState, PhaseEvent } from '@tally/billing'
import type { ChatPhase } from '@tally/protocol'
import type {
  ChatEventRow,
  ConversationCursor,
  ConversationEvidence,
  ConversationRecord,
  ConversationRow,
  RejectionPage,
  RejectionRecord,
  RejectionRow,
  RollupDelta,
  RollupRow,
  TailEvent,
  UnitCursor,
  UnitEvidence,
  UnitRow,
} from '../repository.js'
import { type ConversationDbRow, type Statements, DAY_MS } from './statements.js'

export abstract class SqliteEventsRepository {
  constructor(protected readonly st: Statements) {}

  async insertUnits(_account: string, container: string, units: readonly UnitRow[]): Promise<boolean[]> {
    const { impression, engagement } = this.st
    return units.map((u) => (u.kind === 'campaign' ? impression : engagement).run(container, u.session, u.subject, u.eventId, u.time).changes === 1)
  }

  async insertChatEvents(_account: string, container: string, events: readonly ChatEventRow[]): Promise<boolean[]> {
    return events.map(
      (e) => this.st.chatEvent.run(container, e.conversation, e.eventId, e.phase, e.time, e.receivedAt, e.state ? JSON.stringify(e.state) : null).changes === 1,
    )
  }

  async chatTail(_account: string, container: string, conversation: string, limit: number): Promise<TailEvent[]> {
    return (this.st.chatTail.all(container, conversation, limit) as (PhaseEvent & { state: string | null })[]).map((r) => ({
      ...r,
      state: r.state ? (JSON.parse(r.state) as ConversationState) : null,
    }))
  }

  async saveChatStates(
    _account: string,
    container: string,
    conversation: string,
    states: readonly { eventId: string; state: ConversationState }[],
  ): Promise<void> {
    for (const s of states) this.st.chatState.run(JSON.stringify(s.state), container, conversation, s.eventId)
  }

  async chatEvents(_account: string, container: string, conversation: string): Promise<PhaseEvent[]> {
    return this.st.chatEvents.all(container, conversation) as { id: string; phase: ChatPhase; time: number; receivedAt: number }[]
  }

  async conversationRecords(_account: string, container: string, conversations: readonly string[]): Promise<ConversationRecord[]> {
    const out: ConversationRecord[] = []
    for (const id of conversations) {
      const r = this.st.conversation.get(container, id) as ConversationDbRow | undefined
      if (!r) continue
      const state: ConversationState = {
        startedAt: r.startedAt,
        lastEventAt: r.lastEventAt,
        latestAt: r.latestAt,
        endedAt: r.endedAt,
        closed: r.closed === 1,
        active: r.active === 1,
        botMs: r.botMs,
        firstReceivedAt: r.firstReceivedAt,
        lastReceivedAt: r.lastReceivedAt,
        events: r.events,
      }
      out.push({
        conversation: r.conversation,
        bot: r.bot,
        session: r.session,
        day: r.day,
        sessions: r.sessions,
        status: r.status,
        state,
        ...(r.suspicious === 1 ? { suspicious: true } : {}),
      })
    }
    return out
  }

  async saveConversations(account: string, container: string, records: readonly ConversationRecord[]): Promise<void> {
    for (const r of records) {
      const s = r.state
      this.st.saveConversation.run({
        container,
        conversation: r.conversation,
        account,
        bot: r.bot,
        session: r.session,
        day: r.day,
        sessions: r.sessions,
        status: r.status,
        startedAt: s.startedAt,
        lastEventAt: s.lastEventAt,
        endedAt: s.endedAt,
        botMs: s.botMs,
        latestAt: s.latestAt,
        closed: s.closed ? 1 : 0,
        active: s.active ? 1 : 0,
        firstReceivedAt: s.firstReceivedAt,
        lastReceivedAt: s.lastReceivedAt,
        events: s.events,
        suspicious: r.suspicious ? 1 : 0,
      })
    }
  }

  async addRollups(account: string, deltas: readonly RollupDelta[]): Promise<void> {
    for (const d of deltas) this.st.rollup.run(account, d.day, d.container, d.kind, d.subject, d.units)
  }

  async markIdleConversations(before: number): Promise<number> {
    return this.st.markIdle.run(before).changes
  }

  async recordRejection(r: RejectionRecord): Promise<void> {
    const minute = Math.floor(r.at / 60_000) * 60_000
    this.st.rejection.run(Math.floor(r.at / DAY_MS) * DAY_MS, r.container, r.account, r.reason, r.origin, r.subject ?? '', r.count ?? 1, minute, minute)
  }

  async pruneRejections(before: number, limit: number): Promise<number> {
    // A day row goes once its whole day is before `before`.
    return this.st.pruneRejections.run(before - DAY_MS + 1, limit).changes
  }

  async rollups(account: string, fromDay: string, toDay: string): Promise<RollupRow[]> {
    return this.st.rollups.all(account, fromDay, toDay) as RollupRow[]
  }

  async conversations(account: string, from: number, to: number): Promise<ConversationRow[]> {
    return this.st.conversations.all(account, from, to) as ConversationRow[]
  }

  async rejections(account: string, since: number, page: RejectionPage): Promise<RejectionRow[]> {
    const minute = Math.floor(since / 60_000) * 60_000
    const st = page.sort === 'count' ? this.st.rejectionsByCount : this.st.rejectionsByLastSeen
    return st.all(account, Math.floor(since / DAY_MS) * DAY_MS, minute, page.limit, page.offset) as RejectionRow[]
  }

  async unitContainers(account: string, kind: 'campaign' | 'advisor', fromDay: string, toDay: string): Promise<string[]> {
    return (this.st.unitContainers.all(account, kind, fromDay, toDay) as { container: string }[]).map((r) => r.container)
  }

  async unitPage(
    _account: string,
    container: string,
    kind: 'campaign' | 'advisor',
    from: number,
    to: number,
    after: UnitCursor | null,
    limit: number,
  ): Promise<UnitEvidence[]> {
    // The account chose the container (unitContainers): unit rows carry no account of their own.
    return (
      after === null
        ? this.st[`${kind}First`].all(container, from, to, limit)
        : this.st[`${kind}Next`].all(container, after.time, after.session, after.subject, to, limit)
    ) as UnitEvidence[]
  }

  async conversationPage(account: string, from: number, to: number, after: ConversationCursor | null, limit: number): Promise<ConversationEvidence[]> {
    return (
      after === null
        ? this.st.conversationFirst.all(account, from, to, limit)
        : this.st.conversationNext.all(account, after.startedAt, after.container, after.conversation, to, limit)
    ) as ConversationEvidence[]
  }
}
