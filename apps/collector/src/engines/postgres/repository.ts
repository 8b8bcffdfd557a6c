/**
 * The repository on PostgreSQL: SQL and nothing else. Every batch method is one statement over
 * arrays (`unnest`), so a 50-event beacon costs a handful of round trips whatever its size;
 * exactly-once comes from the unique keys of ./schema.ts with `ON CONFLICT DO NOTHING`, and the
 * keys a statement returns say which rows were new. Rows are written in key order so two
 * transactions touching the same keys wait for each other instead of deadlocking (a deadlock is
 * still retried by the engine).
 */
import pg from 'pg'
import { createHash } from 'node:crypto'
import type { ConversationState, Invoice, LedgerEntry, Lot, PhaseEvent, UsageRow } from '@tally/billing'
import type {
  ChatEventRow, ConfigChange, ConfigHistoryRow, ConfigKind, ConfigVersionRow, NewConfigVersion, ConversationCursor, CreditBookRow, ConversationEvidence, ConversationRecord, ConversationRow, DailyAdd,
  BillingReads, DeliveryRow, DeliveryUpdate, EmailGrantRow, FactKind, FactRow, LedgerKey, PortalSessionRow, OutboxEvent, RejectionPage, RejectionRecord, RejectionRow, Repository,
  RollupDelta, RollupRow, StoredLot, TailEvent, UnitCursor, UnitEvidence, UnitRow, UsageEventCursor, UsageEventRow, WebhookEndpointRow,
} from '../repository.js'

/** A connection or the pool: what a repository sends its statements through. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>

const INT8 = 20
const NUMERIC = 1700
/**
 * bigint (ms, counts) and numeric (`SUM` of bigint) as JS numbers: every value stored here is an
 * integer far below 2^53. Per query, so the process-wide parsers of `pg` stay untouched.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

const LOT_COLUMNS = 'lot, wallet, kind, at, expires_at AS "expiresAt", remaining, expired'

/** `account` of a rejection whose container is unknown: no account id is empty (docs/rules.md). */
const NO_ACCOUNT = ''
const FAR_FUTURE_DAY = '9999-12-31'
const DAY_MS = 86_400_000

/**
 * Every statement is prepared once per connection under a name of its own text: the server then
 * parses and plans it once, not on every beacon (measured in bench/ingest-pg).
 */
const names = new Map<string, string>()
function statementName(text: string): string {
  let name = names.get(text)
  if (!name) names.set(text, (name = `tally_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`))
  return name
}

const key = (...parts: string[]) => JSON.stringify(parts)

/** Per input row: true for the first row whose key the statement returned (it was inserted). */
function fresh<T>(rows: readonly T[], keyOf: (r: T) => string, inserted: Iterable<string>): boolean[] {
  const left = new Set(inserted)
  return rows.map((r) => left.delete(keyOf(r)))
}

const CONVERSATION_COLUMNS = `conversation, bot, session, day, sessions, status, started_at AS "startedAt",
  last_event_at AS "lastEventAt", latest_at AS "latestAt", ended_at AS "endedAt", closed, active, bot_ms AS "botMs",
  first_received_at AS "firstReceivedAt", last_received_at AS "lastReceivedAt", events, suspicious`

/** The insert of one kind of billable unit, its four arrays from parameter `$p` on, as a CTE of that kind's name. */
const UNIT_INSERT: Record<UnitRow['kind'], (p: number) => string> = {
  campaign: (p) => `campaign AS (
    INSERT INTO impressions (account, container, session, campaign, event_id, time)
    SELECT $1, $2, s, x, e, t FROM unnest($${p}::text[], $${p + 1}::text[], $${p + 2}::text[], $${p + 3}::bigint[]) AS u(s, x, e, t)
    ORDER BY s, x
    ON CONFLICT DO NOTHING RETURNING session, campaign AS subject)`,
  advisor: (p) => `advisor AS (
    INSERT INTO engagements (account, container, session, advisor, event_id, time)
    SELECT $1, $2, s, x, e, t FROM unnest($${p}::text[], $${p + 1}::text[], $${p + 2}::text[], $${p + 3}::bigint[]) AS u(s, x, e, t)
    ORDER BY s, x
    ON CONFLICT DO NOTHING RETURNING session, advisor AS subject)`,
}

const PORTAL_COLUMNS = `id, session, member, return_url AS "returnUrl", created_at AS "createdAt", expires_at AS "expiresAt", opened_at AS "openedAt"`
const GRANT_COLUMNS = 'id, month, emails, note, granted_at AS "grantedAt", pack, price, currency'

const DELIVERY_COLUMNS = `d.account, d.seq, d.endpoint, d.status, d.attempts, d.next_at AS "nextAt", d.last_at AS "lastAt",
  d.last_status AS "lastStatus", d.last_error AS "lastError", e.id, e.type, e.created, e.data`

interface DeliveryDbRow extends Omit<DeliveryRow, 'event'> { id: string; type: string; created: number; data: unknown }

const deliveryRow = ({ id, type, created, data, ...d }: DeliveryDbRow): DeliveryRow => ({ ...d, event: { id, type, created, data } })

/**
 * The head of each pending (account, endpoint) queue, from the pending index alone; then only the
 * heads are read whole, so a backlog behind a down endpoint costs an index scan. `lock` is the
 * locking clause: see `dueDeliveries`.
 */
const dueDeliveriesSql = (lock: string) => `SELECT ${DELIVERY_COLUMNS} FROM
    (SELECT account, endpoint, min(seq) AS seq FROM webhook_deliveries WHERE status = 'pending' GROUP BY account, endpoint) h
  JOIN webhook_deliveries d ON d.account = h.account AND d.endpoint = h.endpoint AND d.seq = h.seq
  JOIN webhook_events e ON e.account = d.account AND e.seq = d.seq
  WHERE d.status = 'pending' AND d.next_at <= $1 ORDER BY d.next_at, d.account, d.endpoint LIMIT $2${lock}`

/** Pending deliveries of the event in `s` of account `$1`, due at `$3`, one per endpoint the account has now (a retry starts over). */
const FAN_OUT = `INSERT INTO webhook_deliveries (account, seq, endpoint, status, attempts, next_at)
  SELECT $1, s.seq, w.id, 'pending', 0, $3 FROM s, webhook_endpoints w WHERE w.account = $1 ORDER BY w.id
  ON CONFLICT (account, seq, endpoint) DO UPDATE SET status = 'pending', attempts = 0, next_at = excluded.next_at
  RETURNING 1`

const EVIDENCE_CONVERSATION = `container, conversation, bot, session, started_at AS "startedAt", last_event_at AS "lastEventAt",
  ended_at AS "endedAt", first_received_at AS "firstReceivedAt", last_received_at AS "lastReceivedAt", bot_ms AS "botMs", sessions`
const EVIDENCE_USAGE = 'id, type, day, time, received_at AS "receivedAt", quantity, credits, member'

/** The unit table of a kind and its subject column. */
const UNIT_TABLE = { campaign: ['impressions', 'campaign'], advisor: ['engagements', 'advisor'] } as const

interface ConversationDbRow {
  conversation: string; bot: string; session: string; day: string; sessions: number; status: ConversationRecord['status']
  startedAt: number; lastEventAt: number; latestAt: number; endedAt: number | null; closed: boolean; active: boolean
  botMs: number; firstReceivedAt: number; lastReceivedAt: number; events: number; suspicious: boolean
}

const VERSION_COLUMNS = 'seq, kind, id, version, body, effective_at AS "effectiveAt", created_at AS "createdAt"'

export class PgRepository implements Repository {
  /** Writes sent and not yet answered (see `send`). */
  private pending: Promise<unknown>[] = []

  /**
   * `db` is a pool (reads: any free connection) or one transaction's connection in pipeline
   * mode (`inTransaction`): statements go out in order without waiting for earlier answers.
   */
  constructor(private readonly db: Queryable, private readonly inTransaction = false) {}

  private async q<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.db.query<R>({ name: statementName(text), text, values, types })).rows
  }

  /**
   * A write whose answer nobody reads: in a transaction it is sent and not waited for, and the
   * engine sends COMMIT right behind it, then checks it with \`settle()\`. Outside one, it is waited for.
   */
  private async send(text: string, values: unknown[]): Promise<void> {
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
    const of = (kind: UnitRow['kind']) => {
      const rows = units.filter((u) => u.kind === kind)
      return [rows.map((u) => u.session), rows.map((u) => u.subject), rows.map((u) => u.eventId), rows.map((u) => u.time)]
    }
    const kinds = (['campaign', 'advisor'] as const).filter((k) => units.some((u) => u.kind === k))
    if (kinds.length === 0) return []
    // The kinds present, in one round trip: each INSERT sees only its own input.
    const rows = await this.q<{ kind: UnitRow['kind']; session: string; subject: string }>(
      `WITH ${kinds.map((k, n) => UNIT_INSERT[k](3 + 4 * n)).join(', ')}
      ${kinds.map((k) => `SELECT '${k}' AS kind, session, subject FROM ${k}`).join(' UNION ALL ')}`,
      [account, container, ...kinds.flatMap(of)])
    return fresh(units, (u) => key(u.kind, u.session, u.subject), rows.map((r) => key(r.kind, r.session, r.subject)))
  }

  async insertChatEvents(account: string, container: string, events: readonly ChatEventRow[]): Promise<boolean[]> {
    const rows = await this.q<{ conversation: string; event_id: string }>(`
      INSERT INTO chat_events (account, container, conversation, event_id, phase, time, received_at, state)
      SELECT $1, $2, c, e, p, t, r, s FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[]) AS u(c, e, p, t, r, s)
      ORDER BY c, e
      ON CONFLICT DO NOTHING RETURNING conversation, event_id`,
    [account, container, events.map((e) => e.conversation), events.map((e) => e.eventId), events.map((e) => e.phase),
      events.map((e) => e.time), events.map((e) => e.receivedAt), events.map((e) => (e.state ? JSON.stringify(e.state) : null))])
    return fresh(events, (e) => key(e.conversation, e.eventId), rows.map((r) => key(r.conversation, r.event_id)))
  }

  async chatTail(account: string, container: string, conversation: string, limit: number): Promise<TailEvent[]> {
    // Fold order, newest first (comparePhaseEvents in @tally/billing); ids compare as bytes, as in JavaScript.
    const rows = await this.q<PhaseEvent & { state: string | null }>(`SELECT event_id AS id, phase, time, received_at AS "receivedAt", state
      FROM chat_events WHERE account = $1 AND container = $2 AND conversation = $3
      ORDER BY time DESC, CASE phase WHEN 'start' THEN 0 WHEN 'resume' THEN 1 WHEN 'ping' THEN 2 WHEN 'handoff' THEN 3 ELSE 4 END DESC,
        event_id COLLATE "C" DESC LIMIT $4`, [account, container, conversation, limit])
    return rows.map((r) => ({ ...r, state: r.state ? JSON.parse(r.state) as ConversationState : null }))
  }

  async saveChatStates(account: string, container: string, conversation: string, states: readonly { eventId: string; state: ConversationState }[]): Promise<void> {
    if (states.length === 0) return
    await this.send(`UPDATE chat_events SET state = u.s FROM unnest($4::text[], $5::text[]) AS u(e, s)
      WHERE account = $1 AND container = $2 AND conversation = $3 AND event_id = u.e`,
    [account, container, conversation, states.map((x) => x.eventId), states.map((x) => JSON.stringify(x.state))])
  }

  async chatEvents(account: string, container: string, conversation: string): Promise<PhaseEvent[]> {
    return this.q<PhaseEvent>(`SELECT event_id AS id, phase, time, received_at AS "receivedAt" FROM chat_events
      WHERE account = $1 AND container = $2 AND conversation = $3`, [account, container, conversation])
  }

  async conversationRecords(account: string, container: string, conversations: readonly string[]): Promise<ConversationRecord[]> {
    const rows = await this.q<ConversationDbRow>(`SELECT ${CONVERSATION_COLUMNS} FROM conversations
      WHERE account = $1 AND container = $2 AND conversation = ANY($3::text[])`, [account, container, conversations])
    return rows.map((r) => {
      const state: ConversationState = {
        startedAt: r.startedAt, lastEventAt: r.lastEventAt, latestAt: r.latestAt, endedAt: r.endedAt, closed: r.closed,
        active: r.active, botMs: r.botMs, firstReceivedAt: r.firstReceivedAt, lastReceivedAt: r.lastReceivedAt, events: r.events,
      }
      return {
        conversation: r.conversation, bot: r.bot, session: r.session, day: r.day, sessions: r.sessions, status: r.status, state,
        ...(r.suspicious ? { suspicious: true } : {}),
      }
    })
  }

  async saveConversations(account: string, container: string, records: readonly ConversationRecord[]): Promise<void> {
    if (records.length === 0) return
    // One statement may not update a row twice: the last record of a conversation wins, as one by one.
    const last = [...new Map(records.map((r) => [r.conversation, r])).values()]
    const col = <T>(f: (r: ConversationRecord) => T) => last.map(f)
    await this.send(`
      INSERT INTO conversations (account, container, conversation, bot, session, day, sessions, status, started_at, last_event_at,
        ended_at, bot_ms, latest_at, closed, active, first_received_at, last_received_at, events, suspicious)
      SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::bigint[], $10::bigint[],
        $11::bigint[], $12::bigint[], $13::bigint[], $14::boolean[], $15::boolean[], $16::bigint[], $17::bigint[], $18::int[], $19::boolean[])
      ON CONFLICT (account, container, conversation) DO UPDATE SET started_at = excluded.started_at, day = excluded.day,
        last_event_at = excluded.last_event_at, ended_at = excluded.ended_at, status = excluded.status, bot_ms = excluded.bot_ms,
        sessions = excluded.sessions, latest_at = excluded.latest_at, closed = excluded.closed, active = excluded.active,
        first_received_at = excluded.first_received_at, last_received_at = excluded.last_received_at, events = excluded.events,
        suspicious = excluded.suspicious`,
    [account, container, col((r) => r.conversation), col((r) => r.bot), col((r) => r.session), col((r) => r.day),
      col((r) => r.sessions), col((r) => r.status), col((r) => r.state.startedAt), col((r) => r.state.lastEventAt),
      col((r) => r.state.endedAt), col((r) => r.state.botMs), col((r) => r.state.latestAt), col((r) => r.state.closed),
      col((r) => r.state.active), col((r) => r.state.firstReceivedAt), col((r) => r.state.lastReceivedAt), col((r) => r.state.events),
      col((r) => r.suspicious === true)])
  }

  async addRollups(account: string, deltas: readonly RollupDelta[]): Promise<void> {
    if (deltas.length === 0) return
    // Summed per key first (one statement may not update a row twice), in key order.
    await this.send(`
      INSERT INTO rollups (account, day, container, kind, subject, units)
      SELECT $1, d, c, k, s, sum(n) FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS u(d, c, k, s, n)
      GROUP BY d, c, k, s ORDER BY d, c, k, s
      ON CONFLICT (account, day, container, kind, subject) DO UPDATE SET units = rollups.units + excluded.units`,
    [account, deltas.map((d) => d.day), deltas.map((d) => d.container), deltas.map((d) => d.kind), deltas.map((d) => d.subject),
      deltas.map((d) => d.units)])
  }

  async markIdleConversations(before: number): Promise<number> {
    const rows = await this.q<{ n: number }>(`WITH m AS (UPDATE conversations SET status = 'idle'
      WHERE status = 'open' AND last_event_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM m`, [before])
    return rows[0]?.n ?? 0
  }

  async recordRejection(r: RejectionRecord): Promise<void> {
    const minute = Math.floor(r.at / 60_000) * 60_000
    await this.send(`INSERT INTO rejections (account, day, container, reason, origin, subject, count, first_seen, last_seen)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
      ON CONFLICT (account, day, container, reason, origin, subject) DO UPDATE SET count = rejections.count + excluded.count,
        first_seen = least(rejections.first_seen, excluded.first_seen), last_seen = greatest(rejections.last_seen, excluded.last_seen)`,
    [r.account ?? NO_ACCOUNT, Math.floor(r.at / DAY_MS) * DAY_MS, r.container, r.reason, r.origin, r.subject ?? '', r.count ?? 1, minute])
  }

  async pruneRejections(before: number, limit: number): Promise<number> {
    // A day row goes once its whole day is before `before`; a bounded number per call.
    const rows = await this.q<{ n: number }>(`WITH gone AS (DELETE FROM rejections WHERE ctid IN
        (SELECT ctid FROM rejections WHERE day < $1 ORDER BY day LIMIT $2) RETURNING 1) SELECT count(*)::int AS n FROM gone`,
    [before - DAY_MS + 1, limit])
    return rows[0]?.n ?? 0
  }

  async lockAccount(account: string): Promise<void> {
    // Held until COMMIT or ROLLBACK, across every collector on the database.
    await this.q(`SELECT pg_advisory_xact_lock(hashtext('tally:' || $1))`, [account])
  }

  async usageEvents(account: string, ids: readonly string[]): Promise<Map<string, UsageEventRow>> {
    const rows = await this.q<UsageEventRow>(`SELECT id, type, day, time, received_at AS "receivedAt", quantity, credits, member
      FROM usage_events WHERE account = $1 AND id = ANY($2::text[])`, [account, ids])
    return new Map(rows.map((r) => [r.id, r]))
  }

  async insertUsageEvent(account: string, r: UsageEventRow): Promise<void> {
    await this.send(`INSERT INTO usage_events (account, id, type, day, time, received_at, quantity, credits, member)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [account, r.id, r.type, r.day, r.time, r.receivedAt, r.quantity, r.credits, r.member])
  }

  async addUsageDaily(account: string, day: string, add: DailyAdd): Promise<void> {
    await this.send(`INSERT INTO usage_daily (account, day, alerts, emails, contacts) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (account, day) DO UPDATE SET alerts = usage_daily.alerts + excluded.alerts,
        emails = usage_daily.emails + excluded.emails,
        contacts = CASE WHEN excluded.contacts IS NULL THEN usage_daily.contacts
                        ELSE greatest(usage_daily.contacts, excluded.contacts) END`,
    [account, day, add.alerts, add.emails, add.contacts])
  }

  async usageDaily(account: string, fromDay = '', toDay = FAR_FUTURE_DAY): Promise<UsageRow[]> {
    const rows = await this.q<{ day: string; alerts: number; emails: number; contacts: number | null }>(`
      SELECT day, alerts, emails, contacts FROM usage_daily WHERE account = $1 AND day >= $2 AND day < $3 ORDER BY day`,
    [account, fromDay, toDay])
    return rows.map((r) => ({ day: r.day, alerts: r.alerts, emails: r.emails, ...(r.contacts === null ? {} : { contacts: r.contacts }) }))
  }

  async lastContacts(account: string, beforeDay: string): Promise<number | null> {
    const rows = await this.q<{ contacts: number }>(`
      SELECT contacts FROM usage_daily WHERE account = $1 AND day < $2 AND contacts IS NOT NULL ORDER BY day DESC LIMIT 1`,
    [account, beforeDay])
    return rows[0] ? Number(rows[0].contacts) : null
  }

  async pageDaily(account: string): Promise<UsageRow[]> {
    return this.q<UsageRow>(`SELECT day,
        sum(CASE WHEN kind = 'campaign' THEN units ELSE 0 END) AS impressions,
        sum(CASE WHEN kind = 'advisor' THEN units ELSE 0 END) AS engagements,
        sum(CASE WHEN kind = 'bot' THEN units ELSE 0 END) AS "chatSessions"
      FROM rollups WHERE account = $1 GROUP BY day ORDER BY day`, [account])
  }

  async billingReads(account: string): Promise<BillingReads> {
    // One statement instead of five: the billing run reads this for every account, and each round
    // trip costs the collector more than the rows do. Each list comes as one JSON array.
    const [row] = await this.q<{ page: [string, number, number, number][]; server: [string, number, number, number | null][]; ledger: LedgerEntry[]; invoices: Invoice[]; grants: [string, string, number, string | null, number, string | null, number | null, string | null][]; details: [string, number, unknown][] }>(`
      SELECT
        (SELECT coalesce(json_agg(json_build_array(day, i, e, c) ORDER BY day), '[]') FROM (SELECT day,
            sum(CASE WHEN kind = 'campaign' THEN units ELSE 0 END)::bigint AS i,
            sum(CASE WHEN kind = 'advisor' THEN units ELSE 0 END)::bigint AS e,
            sum(CASE WHEN kind = 'bot' THEN units ELSE 0 END)::bigint AS c
          FROM rollups WHERE account = $1 GROUP BY day) p) AS page,
        (SELECT coalesce(json_agg(json_build_array(day, alerts, emails, contacts) ORDER BY day), '[]') FROM usage_daily WHERE account = $1) AS server,
        (SELECT coalesce(json_agg(entry ORDER BY seq), '[]') FROM ledger WHERE account = $1) AS ledger,
        (SELECT coalesce(json_agg(invoice ORDER BY number), '[]') FROM invoices WHERE account = $1) AS invoices,
        (SELECT coalesce(json_agg(json_build_array(id, month, emails, note, granted_at, pack, price, currency) ORDER BY granted_at, id), '[]')
          FROM email_grants WHERE account = $1) AS grants,
        (SELECT coalesce(json_agg(json_build_array(id, at, body) ORDER BY at, id), '[]')
          FROM account_facts WHERE account = $1 AND kind = 'billing_details') AS details`, [account])
    if (!row) throw new Error('the billing read answered no row')
    return {
      page: row.page.map(([day, impressions, engagements, chatSessions]) => ({ day, impressions, engagements, chatSessions })),
      server: row.server.map(([day, alerts, emails, contacts]) => (contacts === null ? { day, alerts, emails } : { day, alerts, emails, contacts })),
      ledger: row.ledger,
      invoices: row.invoices,
      grants: row.grants.map(([id, month, emails, note, grantedAt, pack, price, currency]) => ({ id, month, emails, note, grantedAt, pack, price, currency })),
      details: row.details.map(([id, at, body]) => ({ kind: 'billing_details', id, at, body })),
    }
  }

  async ledgerHead(account: string): Promise<number> {
    const rows = await this.q<{ seq: number }>('SELECT coalesce(max(seq), 0) AS seq FROM ledger WHERE account = $1', [account])
    return rows[0]?.seq ?? 0
  }

  async ledger(account: string): Promise<LedgerEntry[]> {
    return (await this.q<{ entry: LedgerEntry }>('SELECT entry FROM ledger WHERE account = $1 ORDER BY seq', [account])).map((r) => r.entry)
  }

  async appendLedger(account: string, rows: readonly { key: LedgerKey; entry: LedgerEntry }[]): Promise<number> {
    if (rows.length === 0) return this.ledgerHead(account)
    // WITH ORDINALITY + ORDER BY: the sequence numbers the entries in the order given. The head in
    // the same statement (one round trip, not two): the statement's snapshot does not see the rows
    // it inserts, so the head is the higher of the stored one and the newest inserted.
    const [row] = await this.q<{ seq: number }>(`
      WITH ins AS (
        INSERT INTO ledger (account, source, ref, leg, id, type, wallet, at, credits, entry)
        SELECT $1, src, ref, leg, id, type, wallet, at, credits, entry::json
        FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[])
          WITH ORDINALITY AS u(src, ref, leg, id, type, wallet, at, credits, entry, n)
        ORDER BY n
        ON CONFLICT (account, source, ref, leg) DO NOTHING
        RETURNING seq)
      SELECT coalesce(greatest((SELECT max(seq) FROM ins), (SELECT max(seq) FROM ledger WHERE account = $1)), 0) AS seq`,
    [account, rows.map((r) => r.key.source), rows.map((r) => r.key.ref), rows.map((r) => r.key.leg), rows.map((r) => r.entry.id),
      rows.map((r) => r.entry.type), rows.map((r) => r.entry.wallet), rows.map((r) => r.entry.at), rows.map((r) => r.entry.credits),
      rows.map((r) => JSON.stringify(r.entry))])
    return row?.seq ?? 0
  }

  async ledgerEntries(account: string, keys: readonly LedgerKey[]): Promise<LedgerEntry[]> {
    if (keys.length === 0) return []
    return (await this.q<{ entry: LedgerEntry }>(`SELECT l.entry FROM unnest($2::text[], $3::text[], $4::text[]) AS k(src, ref, leg)
        JOIN ledger l ON l.account = $1 AND l.source = k.src AND l.ref = k.ref AND l.leg = k.leg`,
    [account, keys.map((k) => k.source), keys.map((k) => k.ref), keys.map((k) => k.leg)])).map((r) => r.entry)
  }

  async creditBook(account: string): Promise<CreditBookRow | null> {
    const [r] = await this.q<{ head: number; dueThrough: number | null; wallets: string[]; granted: number; purchased: number; spent: number; expired: number }>(
      `SELECT head, due_through AS "dueThrough", wallets, granted, purchased, spent, expired FROM credit_books WHERE account = $1`, [account])
    if (!r) return null
    return { head: r.head, dueThrough: r.dueThrough, wallets: r.wallets, totals: { granted: r.granted, purchased: r.purchased, spent: r.spent, expired: r.expired } }
  }

  async openLots(account: string): Promise<Lot[]> {
    return this.q<Lot>(`SELECT ${LOT_COLUMNS} FROM credit_lots WHERE account = $1 AND open ORDER BY ord`, [account])
  }

  async creditLots(account: string, lots: readonly string[]): Promise<Lot[]> {
    if (lots.length === 0) return []
    return this.q<Lot>(`SELECT ${LOT_COLUMNS} FROM credit_lots WHERE account = $1 AND lot = ANY($2::text[])`, [account, lots])
  }

  async saveCreditBook(account: string, book: CreditBookRow, lots: readonly StoredLot[]): Promise<void> {
    const t = book.totals
    await this.send(`INSERT INTO credit_books (account, head, due_through, wallets, granted, purchased, spent, expired)
        VALUES ($1, $2, $3, $4::json, $5, $6, $7, $8)
        ON CONFLICT (account) DO UPDATE SET head = excluded.head, due_through = excluded.due_through, wallets = excluded.wallets,
          granted = excluded.granted, purchased = excluded.purchased, spent = excluded.spent, expired = excluded.expired`,
    [account, book.head, book.dueThrough, JSON.stringify(book.wallets), t.granted, t.purchased, t.spent, t.expired])
    if (lots.length === 0) return
    // New lots take the next places in the account's order, in the order given (the index on
    // (account, ord) answers the maximum); a stored lot keeps its place.
    await this.send(`
      INSERT INTO credit_lots (account, lot, ord, wallet, kind, at, expires_at, remaining, expired, open)
      SELECT $1, lot, (SELECT coalesce(max(ord), -1) FROM credit_lots WHERE account = $1) + n, wallet, kind, at, expires_at, remaining, expired, open
      FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::boolean[], $9::boolean[])
        WITH ORDINALITY AS u(lot, wallet, kind, at, expires_at, remaining, expired, open, n)
      ORDER BY n
      ON CONFLICT (account, lot) DO UPDATE SET wallet = excluded.wallet, kind = excluded.kind, at = excluded.at,
        expires_at = excluded.expires_at, remaining = excluded.remaining, expired = excluded.expired, open = excluded.open`,
    [account, lots.map((l) => l.lot), lots.map((l) => l.wallet), lots.map((l) => l.kind), lots.map((l) => l.at), lots.map((l) => l.expiresAt),
      lots.map((l) => l.remaining), lots.map((l) => l.expired), lots.map((l) => l.open)])
  }

  async invoices(account: string, keys?: readonly string[]): Promise<Invoice[]> {
    const rows = keys === undefined
      ? await this.q<{ invoice: Invoice }>('SELECT invoice FROM invoices WHERE account = $1 ORDER BY number', [account])
      : await this.q<{ invoice: Invoice }>('SELECT invoice FROM invoices WHERE account = $1 AND key = ANY($2::text[]) ORDER BY number',
        [account, keys])
    return rows.map((r) => r.invoice)
  }

  async insertInvoices(account: string, invoices: readonly Invoice[], finalizedAt: number): Promise<void> {
    if (invoices.length === 0) return
    // No ON CONFLICT: a second invoice with a stored key or number is refused, whoever wrote the first.
    await this.send(`
      INSERT INTO invoices (account, key, number, kind, issued_at, currency, total, invoice, finalized_at)
      SELECT $1, k, n, kind, at, cur, total, inv::json, $9
      FROM unnest($2::text[], $3::int[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::text[]) AS u(k, n, kind, at, cur, total, inv)`,
    [account, invoices.map((i) => i.key), invoices.map((i) => i.number), invoices.map((i) => i.kind), invoices.map((i) => i.issuedAt),
      invoices.map((i) => i.currency), invoices.map((i) => i.total), invoices.map((i) => JSON.stringify(i)), finalizedAt])
  }

  async lockConfig(): Promise<void> {
    // Held until COMMIT or ROLLBACK, across every collector on the database.
    await this.q(`SELECT pg_advisory_xact_lock(hashtext('tally:config'))`)
  }

  async configHead(): Promise<number> {
    return (await this.q<{ seq: number }>('SELECT coalesce(max(seq), 0)::bigint AS seq FROM config_versions'))[0]!.seq
  }

  async configVersions(afterSeq: number, limit: number): Promise<ConfigVersionRow[]> {
    return this.q<ConfigVersionRow>(`SELECT ${VERSION_COLUMNS} FROM config_versions WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])
  }

  async insertConfigVersion(v: NewConfigVersion): Promise<ConfigVersionRow> {
    // The caller holds lockConfig: no other collector computes the same seq or version meanwhile.
    const body = v.body === null || v.body === undefined ? null : JSON.stringify(v.body)
    const rows = await this.q<{ seq: number; version: number }>(`WITH n AS (
        SELECT (SELECT coalesce(max(seq), 0) + 1 FROM config_versions)::bigint AS seq,
          (SELECT coalesce(max(version), 0) + 1 FROM config_versions WHERE kind = $1 AND id = $2)::int AS version),
      v AS (INSERT INTO config_versions (seq, kind, id, version, body, effective_at, created_at)
        SELECT seq, $1, $2, version, $3::json, $4, $5 FROM n RETURNING seq, version),
      a AS (INSERT INTO config_audit (seq, kind, id, version, actor, at, before, after)
        SELECT seq, $1, $2, version, $6, $5, $7::json, $3::json FROM n)
      SELECT seq, version FROM v`,
    [v.kind, v.id, body, v.effectiveAt, v.createdAt, v.actor, v.before === null || v.before === undefined ? null : JSON.stringify(v.before)])
    const { seq, version } = rows[0]!
    // Delivered at COMMIT to every collector listening (docs/scaling.md); nothing when it rolls back.
    await this.q(`SELECT pg_notify('tally_config', $1)`, [String(seq)])
    return { seq, kind: v.kind, id: v.id, version, body: v.body ?? null, effectiveAt: v.effectiveAt, createdAt: v.createdAt }
  }

  async configHistory(kind: ConfigKind, id: string, limit: number, beforeVersion?: number): Promise<ConfigHistoryRow[]> {
    return this.q<ConfigHistoryRow>(`SELECT v.seq, v.kind, v.id, v.version, v.body, v.effective_at AS "effectiveAt", v.created_at AS "createdAt",
        a.actor, a.before
      FROM config_versions v JOIN config_audit a ON a.seq = v.seq
      WHERE v.kind = $1 AND v.id = $2 AND v.version < $3 ORDER BY v.version DESC LIMIT $4`,
    [kind, id, beforeVersion ?? 2_147_483_647, limit])
  }

  async configFile(): Promise<unknown> {
    return (await this.q<{ body: unknown }>('SELECT body FROM config_file WHERE id = 1'))[0]?.body ?? null
  }

  async saveConfigFile(body: unknown, at: number): Promise<void> {
    await this.send(`INSERT INTO config_file (id, body, applied_at) VALUES (1, $1::json, $2)
      ON CONFLICT (id) DO UPDATE SET body = excluded.body, applied_at = excluded.applied_at`, [JSON.stringify(body), at])
  }

  async configChanges(): Promise<ConfigChange[]> {
    return this.q<ConfigChange>('SELECT kind, id, body FROM config_changes ORDER BY seq')
  }

  async rollups(account: string, fromDay: string, toDay: string): Promise<RollupRow[]> {
    return this.q<RollupRow>(`SELECT day, container, kind, subject, units FROM rollups
      WHERE account = $1 AND day >= $2 AND day < $3 ORDER BY day, container, kind, subject`, [account, fromDay, toDay])
  }

  async conversations(account: string, from: number, to: number): Promise<ConversationRow[]> {
    return this.q<ConversationRow>(`SELECT container, conversation, bot, session, started_at AS "startedAt", day,
        last_event_at AS "lastEventAt", ended_at AS "endedAt", status, bot_ms AS "botMs", sessions FROM conversations
      WHERE account = $1 AND started_at >= $2 AND started_at < $3 ORDER BY started_at`, [account, from, to])
  }

  async rejections(account: string, since: number, page: RejectionPage): Promise<RejectionRow[]> {
    const order = page.sort === 'count' ? 'count DESC, "lastSeen" DESC' : '"lastSeen" DESC, count DESC'
    return this.q<RejectionRow>(`SELECT container, reason, origin, subject, sum(count) AS count, min(first_seen) AS "firstSeen",
        max(last_seen) AS "lastSeen"
      FROM rejections WHERE account = $1 AND day >= $2 AND last_seen >= $3 GROUP BY container, reason, origin, subject
      ORDER BY ${order}, container, reason, origin, subject LIMIT $4 OFFSET $5`,
    [account, Math.floor(since / DAY_MS) * DAY_MS, Math.floor(since / 60_000) * 60_000, page.limit, page.offset])
  }

  async insertEmailGrant(account: string, g: EmailGrantRow): Promise<{ grant: EmailGrantRow; created: boolean }> {
    const inserted = await this.q<EmailGrantRow>(`INSERT INTO email_grants (account, id, month, emails, note, granted_at, pack, price, currency)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (account, id) DO NOTHING RETURNING ${GRANT_COLUMNS}`,
    [account, g.id, g.month, g.emails, g.note, g.grantedAt, g.pack, g.price, g.currency])
    if (inserted[0]) return { grant: inserted[0], created: true }
    // A statement of its own: its snapshot sees the grant even when a concurrent transaction committed it after ours began.
    const stored = await this.q<EmailGrantRow>(`SELECT ${GRANT_COLUMNS} FROM email_grants WHERE account = $1 AND id = $2`, [account, g.id])
    if (!stored[0]) throw new Error(`email grant ${g.id} neither inserted nor stored`)
    return { grant: stored[0], created: false }
  }

  async emailGrants(account: string, fromDay: string, toDay: string): Promise<EmailGrantRow[]> {
    return this.q<EmailGrantRow>(`SELECT ${GRANT_COLUMNS} FROM email_grants WHERE account = $1 AND month >= $2 AND month < $3
      ORDER BY granted_at, id`, [account, fromDay, toDay])
  }

  async insertPortalSession(account: string, r: PortalSessionRow): Promise<void> {
    await this.send(`INSERT INTO portal_sessions (account, id, session, member, return_url, created_at, expires_at, opened_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [account, r.id, r.session, r.member, r.returnUrl, r.createdAt, r.expiresAt, r.openedAt])
  }

  async openPortalLink(account: string, id: string, session: string, at: number): Promise<PortalSessionRow | null> {
    const rows = await this.q<PortalSessionRow>(`UPDATE portal_sessions SET session = $1, opened_at = $2
      WHERE account = $3 AND id = $4 AND opened_at IS NULL AND expires_at > $2 RETURNING ${PORTAL_COLUMNS}`, [session, at, account, id])
    return rows[0] ?? null
  }

  async portalSession(account: string, session: string): Promise<PortalSessionRow | null> {
    const rows = await this.q<PortalSessionRow>(`SELECT ${PORTAL_COLUMNS} FROM portal_sessions WHERE account = $1 AND session = $2`, [account, session])
    return rows[0] ?? null
  }

  async prunePortalSessions(account: string, before: number): Promise<number> {
    const rows = await this.q<{ id: string }>('DELETE FROM portal_sessions WHERE account = $1 AND expires_at < $2 RETURNING id', [account, before])
    return rows.length
  }

  async insertFact(account: string, f: FactRow): Promise<{ fact: FactRow; created: boolean }> {
    const inserted = await this.q<FactRow>(`INSERT INTO account_facts (account, kind, id, at, body) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (account, kind, id) DO NOTHING RETURNING kind, id, at, body`, [account, f.kind, f.id, f.at, JSON.stringify(f.body)])
    if (inserted[0]) return { fact: inserted[0], created: true }
    // A statement of its own: its snapshot sees a fact a concurrent transaction committed after ours began.
    const stored = await this.fact(account, f.kind, f.id)
    if (!stored) throw new Error(`fact ${f.kind}/${f.id} neither inserted nor stored`)
    return { fact: stored, created: false }
  }

  async facts(account: string, kind: FactKind): Promise<FactRow[]> {
    return this.q<FactRow>('SELECT kind, id, at, body FROM account_facts WHERE account = $1 AND kind = $2 ORDER BY at, id', [account, kind])
  }

  async fact(account: string, kind: FactKind, id: string): Promise<FactRow | null> {
    const rows = await this.q<FactRow>('SELECT kind, id, at, body FROM account_facts WHERE account = $1 AND kind = $2 AND id = $3', [account, kind, id])
    return rows[0] ?? null
  }

  async insertWebhookEndpoint(account: string, e: WebhookEndpointRow): Promise<void> {
    await this.send('INSERT INTO webhook_endpoints (account, id, url, secret, created_at) VALUES ($1, $2, $3, $4, $5)',
      [account, e.id, e.url, e.secret, e.createdAt])
  }

  async webhookEndpoints(account: string): Promise<WebhookEndpointRow[]> {
    return this.q<WebhookEndpointRow>(`SELECT id, url, secret, created_at AS "createdAt" FROM webhook_endpoints WHERE account = $1
      ORDER BY created_at, id`, [account])
  }

  async deleteWebhookEndpoint(account: string, id: string): Promise<boolean> {
    const rows = await this.q<{ n: number }>(`WITH gone AS (DELETE FROM webhook_endpoints WHERE account = $1 AND id = $2 RETURNING id),
        dropped AS (DELETE FROM webhook_deliveries WHERE account = $1 AND endpoint IN (SELECT id FROM gone) AND status = 'pending')
      SELECT count(*)::int AS n FROM gone`, [account, id])
    return (rows[0]?.n ?? 0) === 1
  }

  async insertOutboxEvent(account: string, e: OutboxEvent): Promise<boolean> {
    // The next position is max + 1: the caller holds lockAccount, so no other collector computes
    // the same one meanwhile. Only the fact's key is a no-op on conflict: a position taken anyway
    // fails the transaction (and is retried) instead of dropping the event.
    const rows = await this.q<{ seq: number }>(`WITH s AS (
        INSERT INTO webhook_events (account, seq, key, id, type, created, data)
        SELECT $1, coalesce(max(seq), 0) + 1, $2, $4, $5, $3, $6::json FROM webhook_events WHERE account = $1
        ON CONFLICT (account, key) DO NOTHING RETURNING seq),
      f AS (${FAN_OUT})
      SELECT seq FROM s`, [account, e.key, e.created, e.id, e.type, JSON.stringify(e.data)])
    return rows.length === 1
  }

  async dueDeliveries(now: number, limit: number): Promise<DeliveryRow[]> {
    // In a transaction (the lease of claimDeliveries, services/webhooks.ts) the heads are locked and
    // those another collector is leasing right now are skipped, so no two collectors claim the same
    // delivery; one whose lease a collector committed meanwhile fails `next_at <= now` on recheck.
    // Outside one (the idle probe) it only reads.
    const rows = await this.q<DeliveryDbRow>(dueDeliveriesSql(this.inTransaction ? ' FOR UPDATE OF d SKIP LOCKED' : ''), [now, limit])
    return rows.map(deliveryRow)
  }

  async updateDelivery(account: string, seq: number, endpoint: string, u: DeliveryUpdate): Promise<void> {
    await this.send(`UPDATE webhook_deliveries SET status = $4, attempts = $5, next_at = $6, last_at = $7, last_status = $8, last_error = $9
      WHERE account = $1 AND seq = $2 AND endpoint = $3`,
    [account, seq, endpoint, u.status, u.attempts, u.nextAt, u.lastAt, u.lastStatus, u.lastError])
  }

  async deliveries(account: string, limit: number, beforeSeq = Number.MAX_SAFE_INTEGER): Promise<DeliveryRow[]> {
    const rows = await this.q<DeliveryDbRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d
        JOIN webhook_events e ON e.account = d.account AND e.seq = d.seq
      WHERE d.account = $1 AND d.seq < $2 ORDER BY d.seq DESC, d.endpoint LIMIT $3`, [account, beforeSeq, limit])
    return rows.map(deliveryRow)
  }

  async redeliver(account: string, eventId: string, now: number): Promise<number | null> {
    const rows = await this.q<{ found: boolean; n: number }>(`WITH s AS (SELECT seq FROM webhook_events WHERE account = $1 AND id = $2),
        f AS (${FAN_OUT})
      SELECT EXISTS (SELECT 1 FROM s) AS found, (SELECT count(*)::int FROM f) AS n`, [account, eventId, now])
    return rows[0]?.found ? rows[0].n : null
  }

  async unitContainers(account: string, kind: 'campaign' | 'advisor', fromDay: string, toDay: string): Promise<string[]> {
    const rows = await this.q<{ container: string }>(`SELECT DISTINCT container FROM rollups
      WHERE account = $1 AND kind = $2 AND day >= $3 AND day < $4 ORDER BY container`, [account, kind, fromDay, toDay])
    return rows.map((r) => r.container)
  }

  async unitPage(
    account: string, container: string, kind: 'campaign' | 'advisor', from: number, to: number, after: UnitCursor | null, limit: number,
  ): Promise<UnitEvidence[]> {
    const [table, subject] = UNIT_TABLE[kind]
    const cols = `container, session, ${subject} AS subject, event_id AS "eventId", time`
    // The cursor alone starts the next page (it is past `from`): a seek in (account, container, time, session, subject).
    return after === null
      ? this.q<UnitEvidence>(`SELECT ${cols} FROM ${table} WHERE account = $1 AND container = $2 AND time >= $3 AND time < $4
          ORDER BY time, session, ${subject} LIMIT $5`, [account, container, from, to, limit])
      : this.q<UnitEvidence>(`SELECT ${cols} FROM ${table}
          WHERE account = $1 AND container = $2 AND (time, session, ${subject}) > ($3::bigint, $4::text, $5::text) AND time < $6
          ORDER BY time, session, ${subject} LIMIT $7`, [account, container, after.time, after.session, after.subject, to, limit])
  }

  async conversationPage(account: string, from: number, to: number, after: ConversationCursor | null, limit: number): Promise<ConversationEvidence[]> {
    return after === null
      ? this.q<ConversationEvidence>(`SELECT ${EVIDENCE_CONVERSATION} FROM conversations
          WHERE account = $1 AND started_at >= $2 AND started_at < $3 AND sessions > 0
          ORDER BY started_at, container, conversation LIMIT $4`, [account, from, to, limit])
      : this.q<ConversationEvidence>(`SELECT ${EVIDENCE_CONVERSATION} FROM conversations
          WHERE account = $1 AND (started_at, container, conversation) > ($2::bigint, $3::text, $4::text) AND started_at < $5 AND sessions > 0
          ORDER BY started_at, container, conversation LIMIT $6`, [account, after.startedAt, after.container, after.conversation, to, limit])
  }

  async usageEventPage(
    account: string, type: UsageEventRow['type'], fromDay: string, toDay: string, after: UsageEventCursor | null, limit: number,
  ): Promise<UsageEventRow[]> {
    return after === null
      ? this.q<UsageEventRow>(`SELECT ${EVIDENCE_USAGE} FROM usage_events WHERE account = $1 AND type = $2 AND day >= $3 AND day < $4
          ORDER BY day, id LIMIT $5`, [account, type, fromDay, toDay, limit])
      : this.q<UsageEventRow>(`SELECT ${EVIDENCE_USAGE} FROM usage_events
          WHERE account = $1 AND type = $2 AND (day, id) > ($3::text, $4::text) AND day < $5
          ORDER BY day, id LIMIT $6`, [account, type, after.day, after.id, toDay, limit])
  }

  async ping(): Promise<void> {
    await this.q('SELECT 1')
  }
}
