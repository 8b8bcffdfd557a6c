/**
 * What the page's events write and read on PostgreSQL: units, chat events and conversations, daily
 * rollups, rejections and the evidence pages over them (./accounts.ts adds configuration, portal,
 * facts and webhooks, ./repository.ts the accounts' billing tables). The connection, pipelining and `settle` live here, as every write goes through them.
 */
import type pg from 'pg'
import type { ConversationState, PhaseEvent } from '@tally/billing'
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
import {
  type Queryable,
  types,
  NO_ACCOUNT,
  DAY_MS,
  statementName,
  key,
  fresh,
  CONVERSATION_COLUMNS,
  EVIDENCE_CONVERSATION,
  UNIT_TABLE,
  type ConversationDbRow,
} from './sql.js'
import { type KnownUnit, rollupColumns, type UnitBatch, unitsStatement } from './units.js'

export abstract class PgEventsRepository {
  /** Writes sent and not yet answered (see `send`). */
  protected pending: Promise<unknown>[] = []

  /**
   * `db` is a pool (reads: any free connection) or one transaction's connection in pipeline
   * mode (`inTransaction`): statements go out in order without waiting for earlier answers.
   */
  constructor(
    protected readonly db: Queryable,
    protected readonly inTransaction = false,
  ) {}

  protected async q<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.db.query<R>({ name: statementName(text), text, values, types })).rows
  }

  /**
   * A write whose answer nobody reads: in a transaction it is sent and not waited for, and the
   * engine sends COMMIT right behind it, then checks it with \`settle()\`. Outside one, it is waited for.
   */
  protected async send(text: string, values: unknown[]): Promise<void> {
    if (!this.inTransaction) {
      await this.q(text, values)
      return
    }
    const sent = this.q(text, values)
    sent.catch(() => {})
    this.pending.push(sent)
  }

  /** Rejects with the first failed write sent so far (the one that aborted the transaction). */
  async settle(): Promise<void> {
    const sent = this.pending
    this.pending = []
    for (const p of sent) await p
  }

  /** The first failed write sent so far, if any: the cause of whatever failed after it. */
  async firstFailure(): Promise<unknown> {
    for (const r of await Promise.allSettled(this.pending)) if (r.status === 'rejected') return r.reason
    return undefined
  }

  async insertUnits(account: string, container: string, units: readonly UnitRow[]): Promise<boolean[]> {
    return (await this.insertUnitBatches([{ account, container, units }]))[0] ?? []
  }

  /**
   * `insertUnits` of several beacons in one statement (./group.ts): per batch, per row, whether it
   * was new. A unit named twice (in one batch or two) is new for its first row only.
   */
  async insertUnitBatches(batches: readonly UnitBatch[]): Promise<boolean[][]> {
    const st = unitsStatement(batches)
    if (!st) return batches.map((b) => b.units.map(() => false))
    return st.fresh(await this.q<KnownUnit>(st.text, st.values))
  }

  async insertChatEvents(account: string, container: string, events: readonly ChatEventRow[]): Promise<boolean[]> {
    const rows = await this.q<{ conversation: string; event_id: string }>(
      `
      INSERT INTO chat_events (account, container, conversation, event_id, phase, time, received_at, state)
      SELECT $1, $2, c, e, p, t, r, s FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[]) AS u(c, e, p, t, r, s)
      ORDER BY c, e
      ON CONFLICT DO NOTHING RETURNING conversation, event_id`,
      [
        account,
        container,
        events.map((e) => e.conversation),
        events.map((e) => e.eventId),
        events.map((e) => e.phase),
        events.map((e) => e.time),
        events.map((e) => e.receivedAt),
        events.map((e) => (e.state ? JSON.stringify(e.state) : null)),
      ],
    )
    return fresh(
      events,
      (e) => key(e.conversation, e.eventId),
      rows.map((r) => key(r.conversation, r.event_id)),
    )
  }

  async chatTail(account: string, container: string, conversation: string, limit: number): Promise<TailEvent[]> {
    // Fold order, newest first (comparePhaseEvents in @tally/billing); ids compare as bytes, as in JavaScript.
    const rows = await this.q<PhaseEvent & { state: string | null }>(
      `SELECT event_id AS id, phase, time, received_at AS "receivedAt", state
      FROM chat_events WHERE account = $1 AND container = $2 AND conversation = $3
      ORDER BY time DESC, CASE phase WHEN 'start' THEN 0 WHEN 'resume' THEN 1 WHEN 'ping' THEN 2 WHEN 'handoff' THEN 3 ELSE 4 END DESC,
        event_id COLLATE "C" DESC LIMIT $4`,
      [account, container, conversation, limit],
    )
    return rows.map((r) => ({ ...r, state: r.state ? (JSON.parse(r.state) as ConversationState) : null }))
  }

  async saveChatStates(
    account: string,
    container: string,
    conversation: string,
    states: readonly { eventId: string; state: ConversationState }[],
  ): Promise<void> {
    if (states.length === 0) return
    await this.send(
      `UPDATE chat_events SET state = u.s FROM unnest($4::text[], $5::text[]) AS u(e, s)
      WHERE account = $1 AND container = $2 AND conversation = $3 AND event_id = u.e`,
      [account, container, conversation, states.map((x) => x.eventId), states.map((x) => JSON.stringify(x.state))],
    )
  }

  async chatEvents(account: string, container: string, conversation: string): Promise<PhaseEvent[]> {
    return this.q<PhaseEvent>(
      `SELECT event_id AS id, phase, time, received_at AS "receivedAt" FROM chat_events
      WHERE account = $1 AND container = $2 AND conversation = $3`,
      [account, container, conversation],
    )
  }

  async conversationRecords(account: string, container: string, conversations: readonly string[]): Promise<ConversationRecord[]> {
    const rows = await this.q<ConversationDbRow>(
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations
      WHERE account = $1 AND container = $2 AND conversation = ANY($3::text[])`,
      [account, container, conversations],
    )
    return rows.map((r) => {
      const state: ConversationState = {
        startedAt: r.startedAt,
        lastEventAt: r.lastEventAt,
        latestAt: r.latestAt,
        endedAt: r.endedAt,
        closed: r.closed,
        active: r.active,
        botMs: r.botMs,
        firstReceivedAt: r.firstReceivedAt,
        lastReceivedAt: r.lastReceivedAt,
        events: r.events,
      }
      return {
        conversation: r.conversation,
        bot: r.bot,
        session: r.session,
        day: r.day,
        sessions: r.sessions,
        status: r.status,
        state,
        ...(r.suspicious ? { suspicious: true } : {}),
      }
    })
  }

  async saveConversations(account: string, container: string, records: readonly ConversationRecord[]): Promise<void> {
    if (records.length === 0) return
    // One statement may not update a row twice: the last record of a conversation wins, as one by one.
    const last = [...new Map(records.map((r) => [r.conversation, r])).values()]
    const col = <T>(f: (r: ConversationRecord) => T) => last.map(f)
    await this.send(
      `
      INSERT INTO conversations (account, container, conversation, bot, session, day, sessions, status, started_at, last_event_at,
        ended_at, bot_ms, latest_at, closed, active, first_received_at, last_received_at, events, suspicious)
      SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::bigint[], $10::bigint[],
        $11::bigint[], $12::bigint[], $13::bigint[], $14::boolean[], $15::boolean[], $16::bigint[], $17::bigint[], $18::int[], $19::boolean[])
      ON CONFLICT (account, container, conversation) DO UPDATE SET started_at = excluded.started_at, day = excluded.day,
        last_event_at = excluded.last_event_at, ended_at = excluded.ended_at, status = excluded.status, bot_ms = excluded.bot_ms,
        sessions = excluded.sessions, latest_at = excluded.latest_at, closed = excluded.closed, active = excluded.active,
        first_received_at = excluded.first_received_at, last_received_at = excluded.last_received_at, events = excluded.events,
        suspicious = excluded.suspicious`,
      [
        account,
        container,
        col((r) => r.conversation),
        col((r) => r.bot),
        col((r) => r.session),
        col((r) => r.day),
        col((r) => r.sessions),
        col((r) => r.status),
        col((r) => r.state.startedAt),
        col((r) => r.state.lastEventAt),
        col((r) => r.state.endedAt),
        col((r) => r.state.botMs),
        col((r) => r.state.latestAt),
        col((r) => r.state.closed),
        col((r) => r.state.active),
        col((r) => r.state.firstReceivedAt),
        col((r) => r.state.lastReceivedAt),
        col((r) => r.state.events),
        col((r) => r.suspicious === true),
      ],
    )
  }

  async addRollups(account: string, deltas: readonly RollupDelta[]): Promise<void> {
    await this.addRollupRows(deltas.map((d) => ({ account, ...d })))
  }

  /** `addRollups` of several accounts in one statement (./group.ts). */
  async addRollupRows(rows: readonly (RollupDelta & { account: string })[]): Promise<void> {
    if (rows.length === 0) return
    // Summed per key first (one statement may not update a row twice), in key order.
    await this.send(
      `
      INSERT INTO rollups (account, day, container, kind, subject, units)
      SELECT a, d, c, k, s, sum(n) FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS u(a, d, c, k, s, n)
      GROUP BY a, d, c, k, s ORDER BY a, d, c, k, s
      ON CONFLICT (account, day, container, kind, subject) DO UPDATE SET units = rollups.units + excluded.units`,
      rollupColumns(rows),
    )
  }

  async markIdleConversations(before: number): Promise<number> {
    const rows = await this.q<{ n: number }>(
      `WITH m AS (UPDATE conversations SET status = 'idle'
      WHERE status = 'open' AND last_event_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM m`,
      [before],
    )
    return rows[0]?.n ?? 0
  }

  async recordRejection(r: RejectionRecord): Promise<void> {
    const minute = Math.floor(r.at / 60_000) * 60_000
    await this.send(
      `INSERT INTO rejections (account, day, container, reason, origin, subject, count, first_seen, last_seen)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
      ON CONFLICT (account, day, container, reason, origin, subject) DO UPDATE SET count = rejections.count + excluded.count,
        first_seen = least(rejections.first_seen, excluded.first_seen), last_seen = greatest(rejections.last_seen, excluded.last_seen)`,
      [r.account ?? NO_ACCOUNT, Math.floor(r.at / DAY_MS) * DAY_MS, r.container, r.reason, r.origin, r.subject ?? '', r.count ?? 1, minute],
    )
  }

  async pruneRejections(before: number, limit: number): Promise<number> {
    // A day row goes once its whole day is before `before`; a bounded number per call.
    const rows = await this.q<{ n: number }>(
      `WITH gone AS (DELETE FROM rejections WHERE ctid IN
        (SELECT ctid FROM rejections WHERE day < $1 ORDER BY day LIMIT $2) RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [before - DAY_MS + 1, limit],
    )
    return rows[0]?.n ?? 0
  }

  async rollups(account: string, fromDay: string, toDay: string): Promise<RollupRow[]> {
    return this.q<RollupRow>(
      `SELECT day, container, kind, subject, units FROM rollups
      WHERE account = $1 AND day >= $2 AND day < $3 ORDER BY day, container, kind, subject`,
      [account, fromDay, toDay],
    )
  }

  async conversations(account: string, from: number, to: number): Promise<ConversationRow[]> {
    return this.q<ConversationRow>(
      `SELECT container, conversation, bot, session, started_at AS "startedAt", day,
        last_event_at AS "lastEventAt", ended_at AS "endedAt", status, bot_ms AS "botMs", sessions FROM conversations
      WHERE account = $1 AND started_at >= $2 AND started_at < $3 ORDER BY started_at`,
      [account, from, to],
    )
  }

  async rejections(account: string, since: number, page: RejectionPage): Promise<RejectionRow[]> {
    const order = page.sort === 'count' ? 'count DESC, "lastSeen" DESC' : '"lastSeen" DESC, count DESC'
    return this.q<RejectionRow>(
      `SELECT container, reason, origin, subject, sum(count) AS count, min(first_seen) AS "firstSeen",
        max(last_seen) AS "lastSeen"
      FROM rejections WHERE account = $1 AND day >= $2 AND last_seen >= $3 GROUP BY container, reason, origin, subject
      ORDER BY ${order}, container, reason, origin, subject LIMIT $4 OFFSET $5`,
      [account, Math.floor(since / DAY_MS) * DAY_MS, Math.floor(since / 60_000) * 60_000, page.limit, page.offset],
    )
  }

  async unitContainers(account: string, kind: 'campaign' | 'advisor', fromDay: string, toDay: string): Promise<string[]> {
    const rows = await this.q<{ container: string }>(
      `SELECT DISTINCT container FROM rollups
      WHERE account = $1 AND kind = $2 AND day >= $3 AND day < $4 ORDER BY container`,
      [account, kind, fromDay, toDay],
    )
    return rows.map((r) => r.container)
  }

  async unitPage(
    account: string,
    container: string,
    kind: 'campaign' | 'advisor',
    from: number,
    to: number,
    after: UnitCursor | null,
    limit: number,
  ): Promise<UnitEvidence[]> {
    const [table, subject] = UNIT_TABLE[kind]
    const cols = `container, session, ${subject} AS subject, event_id AS "eventId", time`
    // The cursor alone starts the next page (it is past `from`): a seek in (account, container, time, session, subject).
    return after === null
      ? this.q<UnitEvidence>(
          `SELECT ${cols} FROM ${table} WHERE account = $1 AND container = $2 AND time >= $3 AND time < $4
          ORDER BY time, session, ${subject} LIMIT $5`,
          [account, container, from, to, limit],
        )
      : this.q<UnitEvidence>(
          `SELECT ${cols} FROM ${table}
          WHERE account = $1 AND container = $2 AND (time, session, ${subject}) > ($3::bigint, $4::text, $5::text) AND time < $6
          ORDER BY time, session, ${subject} LIMIT $7`,
          [account, container, after.time, after.session, after.subject, to, limit],
        )
  }

  async conversationPage(account: string, from: number, to: number, after: ConversationCursor | null, limit: number): Promise<ConversationEvidence[]> {
    return after === null
      ? this.q<ConversationEvidence>(
          `SELECT ${EVIDENCE_CONVERSATION} FROM conversations
          WHERE account = $1 AND started_at >= $2 AND started_at < $3 AND sessions > 0
          ORDER BY started_at, container, conversation LIMIT $4`,
          [account, from, to, limit],
        )
      : this.q<ConversationEvidence>(
          `SELECT ${EVIDENCE_CONVERSATION} FROM conversations
          WHERE account = $1 AND (started_at, container, conversation) > ($2::bigint, $3::text, $4::text) AND started_at < $5 AND sessions > 0
          ORDER BY started_at, container, conversation LIMIT $6`,
          [account, after.startedAt, after.container, after.conversation, to, limit],
        )
  }
}
