/**
 * The repository on SQLite: prepared statements and nothing else. better-sqlite3 is synchronous,
 * so each method does its work at once and returns a settled promise; the engine (./engine.ts)
 * runs a whole service inside one savepoint of its group commit.
 */
import type Database from 'better-sqlite3'
import type { ConversationState, Invoice, LedgerEntry, Lot, PhaseEvent, UsageRow } from '@tally/billing'
import type { ChatPhase } from '@tally/protocol'
import type {
  ChatEventRow, ConfigChange, ConfigHistoryRow, ConfigKind, ConfigVersionRow, NewConfigVersion, ConversationCursor, CreditBookRow, ConversationEvidence, ConversationRecord, ConversationRow, DailyAdd,
  BillingReads, DeliveryRow, DeliveryUpdate, EmailGrantRow, FactKind, FactRow, LedgerKey, PortalSessionRow, OutboxEvent, RejectionPage, RejectionRecord, RejectionRow, Repository,
  RollupDelta, RollupRow, StoredLot, TailEvent, UnitCursor, UnitEvidence, UnitRow, UsageEventCursor, UsageEventRow, WebhookEndpointRow,
} from '../repository.js'

interface ConversationDbRow {
  conversation: string; bot: string; session: string; day: string; sessions: number; status: ConversationRecord['status']
  startedAt: number; lastEventAt: number; latestAt: number; endedAt: number | null; closed: number; active: number
  botMs: number; firstReceivedAt: number; lastReceivedAt: number; events: number; suspicious: number
}

/** The phase rank of the fold order (`comparePhaseEvents` in @tally/billing). */
export const PHASE_RANK = "CASE phase WHEN 'start' THEN 0 WHEN 'resume' THEN 1 WHEN 'ping' THEN 2 WHEN 'handoff' THEN 3 ELSE 4 END"

const CONVERSATION_COLUMNS = `conversation, bot, session, day, sessions, status, started_at AS startedAt, last_event_at AS lastEventAt,
  latest_at AS latestAt, ended_at AS endedAt, closed, active, bot_ms AS botMs, first_received_at AS firstReceivedAt,
  last_received_at AS lastReceivedAt, events, suspicious`

const EVIDENCE_CONVERSATION = `container, conversation, bot, session, started_at AS startedAt, last_event_at AS lastEventAt,
  ended_at AS endedAt, first_received_at AS firstReceivedAt, last_received_at AS lastReceivedAt, bot_ms AS botMs, sessions`
const PORTAL_COLUMNS = `id, session, member, return_url AS returnUrl, created_at AS createdAt, expires_at AS expiresAt, opened_at AS openedAt`
const factOf = (r: { kind: FactKind; id: string; at: number; body: string }): FactRow => ({ kind: r.kind, id: r.id, at: r.at, body: JSON.parse(r.body) })
const LOT_COLUMNS = 'lot, wallet, kind, at, expires_at AS expiresAt, remaining, expired'

/** A stored lot as `@tally/billing` holds it. */
function lotOf(r: Omit<Lot, 'expired'> & { expired: number }): Lot {
  return { lot: r.lot, wallet: r.wallet, kind: r.kind, at: r.at, expiresAt: r.expiresAt, remaining: r.remaining, expired: r.expired !== 0 }
}

const EVIDENCE_USAGE = 'id, type, day, time, received_at AS receivedAt, quantity, credits, member'

/** The first and the next page of one unit table, by (time, session, subject) within a container. */
function unitPages(db: Database.Database, table: 'impressions' | 'engagements', kind: 'campaign' | 'advisor') {
  const subject = kind === 'campaign' ? 'campaign' : 'advisor'
  const cols = `container, session, ${subject} AS subject, event_id AS eventId, time`
  return {
    [`${kind}First`]: db.prepare(`SELECT ${cols} FROM ${table} WHERE container = ? AND time >= ? AND time < ?
        ORDER BY time, session, ${subject} LIMIT ?`),
    // The cursor alone starts the range (it is past `from`): SQLite then seeks to it in the index
    // instead of scanning from `from` and filtering, which made every page cost more than the last.
    [`${kind}Next`]: db.prepare(`SELECT ${cols} FROM ${table} WHERE container = ? AND (time, session, ${subject}) > (?, ?, ?) AND time < ?
        ORDER BY time, session, ${subject} LIMIT ?`),
  } as Record<`${typeof kind}First` | `${typeof kind}Next`, Database.Statement>
}

/** Statements of one database connection. */
const VERSION_COLUMNS = 'seq, kind, id, version, body, effective_at AS effectiveAt, created_at AS createdAt'
type StoredVersion = Omit<ConfigVersionRow, 'body'> & { body: string | null }
const versionRow = (r: StoredVersion): ConfigVersionRow => ({ ...r, body: r.body === null ? null : JSON.parse(r.body) as unknown })

export function prepare(db: Database.Database) {
  return {
    impression: db.prepare('INSERT INTO impressions (container, session, campaign, event_id, time) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    engagement: db.prepare('INSERT INTO engagements (container, session, advisor, event_id, time) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    chatEvent: db.prepare(`INSERT INTO chat_events (container, conversation, event_id, phase, time, received_at, state)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
    // Fold order, newest first: time, then the phase rank of @tally/billing comparePhaseEvents, then the id.
    chatTail: db.prepare(`SELECT event_id AS id, phase, time, received_at AS receivedAt, state FROM chat_events
        WHERE container = ? AND conversation = ?
        ORDER BY time DESC, ${PHASE_RANK} DESC, event_id DESC LIMIT ?`),
    chatState: db.prepare('UPDATE chat_events SET state = ? WHERE container = ? AND conversation = ? AND event_id = ?'),
    chatEvents: db.prepare(`SELECT event_id AS id, phase, time, received_at AS receivedAt FROM chat_events
        WHERE container = ? AND conversation = ?`),
    conversation: db.prepare(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE container = ? AND conversation = ?`),
    saveConversation: db.prepare(`INSERT INTO conversations (container, conversation, account, bot, session, started_at, day, last_event_at,
          ended_at, status, bot_ms, sessions, latest_at, closed, active, first_received_at, last_received_at, events, suspicious)
        VALUES (@container, @conversation, @account, @bot, @session, @startedAt, @day, @lastEventAt, @endedAt, @status, @botMs,
          @sessions, @latestAt, @closed, @active, @firstReceivedAt, @lastReceivedAt, @events, @suspicious)
        ON CONFLICT (container, conversation) DO UPDATE SET started_at = excluded.started_at, day = excluded.day,
          last_event_at = excluded.last_event_at, ended_at = excluded.ended_at, status = excluded.status, bot_ms = excluded.bot_ms,
          sessions = excluded.sessions, latest_at = excluded.latest_at, closed = excluded.closed, active = excluded.active,
          first_received_at = excluded.first_received_at, last_received_at = excluded.last_received_at, events = excluded.events`),
    rollup: db.prepare(`INSERT INTO rollups (account, day, container, kind, subject, units) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (account, day, container, kind, subject) DO UPDATE SET units = units + excluded.units`),
    markIdle: db.prepare("UPDATE conversations SET status = 'idle' WHERE status = 'open' AND last_event_at < ?"),
    rejection: db.prepare(`INSERT INTO rejections (day, container, account, reason, origin, subject, count, first_seen, last_seen)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (day, container, reason, origin, subject) DO UPDATE SET count = count + excluded.count,
          first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
    pruneRejections: db.prepare(`DELETE FROM rejections WHERE (day, container, reason, origin, subject) IN
        (SELECT day, container, reason, origin, subject FROM rejections WHERE day < ? ORDER BY day LIMIT ?)`),
    usageEvent: db.prepare(`SELECT id, type, day, time, received_at AS receivedAt, quantity, credits, member FROM usage_events
        WHERE account = ? AND id = ?`),
    insertUsage: db.prepare(`INSERT INTO usage_events (account, id, type, day, time, received_at, quantity, credits, member)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    addDaily: db.prepare(`INSERT INTO usage_daily (account, day, alerts, emails, contacts) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (account, day) DO UPDATE SET alerts = alerts + excluded.alerts, emails = emails + excluded.emails,
          contacts = CASE WHEN excluded.contacts IS NULL THEN contacts
                          WHEN contacts IS NULL OR excluded.contacts > contacts THEN excluded.contacts ELSE contacts END`),
    daily: db.prepare('SELECT day, alerts, emails, contacts FROM usage_daily WHERE account = ? AND day >= ? AND day < ? ORDER BY day').raw(true),
    lastContacts: db.prepare('SELECT contacts FROM usage_daily WHERE account = ? AND day < ? AND contacts IS NOT NULL ORDER BY day DESC LIMIT 1'),
    pageDaily: db.prepare(`SELECT day,
          SUM(CASE WHEN kind = 'campaign' THEN units ELSE 0 END) AS impressions,
          SUM(CASE WHEN kind = 'advisor' THEN units ELSE 0 END) AS engagements,
          SUM(CASE WHEN kind = 'bot' THEN units ELSE 0 END) AS chatSessions
        FROM rollups WHERE account = ? GROUP BY day ORDER BY day`).raw(true),
    ledgerHead: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM ledger WHERE account = ?'),
    ledger: db.prepare('SELECT entry FROM ledger WHERE account = ? ORDER BY seq'),
    append: db.prepare(`INSERT INTO ledger (account, source, ref, leg, id, type, wallet, at, credits, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (account, source, ref, leg) DO NOTHING`),
    ledgerEntry: db.prepare('SELECT entry FROM ledger WHERE account = ? AND source = ? AND ref = ? AND leg = ?'),
    creditBook: db.prepare(`SELECT head, due_through AS dueThrough, wallets, granted, purchased, spent, expired FROM credit_books
        WHERE account = ?`),
    saveCreditBook: db.prepare(`INSERT INTO credit_books (account, head, due_through, wallets, granted, purchased, spent, expired)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (account) DO UPDATE SET head = excluded.head, due_through = excluded.due_through, wallets = excluded.wallets,
          granted = excluded.granted, purchased = excluded.purchased, spent = excluded.spent, expired = excluded.expired`),
    openLots: db.prepare(`SELECT ${LOT_COLUMNS} FROM credit_lots WHERE account = ? AND open = 1 ORDER BY ord`),
    creditLot: db.prepare(`SELECT ${LOT_COLUMNS} FROM credit_lots WHERE account = ? AND lot = ?`),
    // A new lot takes the next place in the account's order (the index on (account, ord) answers
    // the maximum); a stored one keeps its place.
    saveLot: db.prepare(`INSERT INTO credit_lots (account, lot, ord, wallet, kind, at, expires_at, remaining, expired, open)
        VALUES (?, ?, (SELECT COALESCE(MAX(ord), -1) + 1 FROM credit_lots WHERE account = ?), ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (account, lot) DO UPDATE SET wallet = excluded.wallet, kind = excluded.kind, at = excluded.at,
          expires_at = excluded.expires_at, remaining = excluded.remaining, expired = excluded.expired, open = excluded.open`),
    invoices: db.prepare('SELECT invoice FROM invoices WHERE account = ? ORDER BY number'),
    invoice: db.prepare('SELECT invoice FROM invoices WHERE account = ? AND key = ?'),
    insertInvoice: db.prepare(`INSERT INTO invoices (account, key, number, kind, issued_at, currency, total, invoice, finalized_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    changes: db.prepare('SELECT kind, id, body FROM config_changes ORDER BY seq'),
    configHead: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM config_versions'),
    configVersions: db.prepare(`SELECT ${VERSION_COLUMNS} FROM config_versions WHERE seq > ? ORDER BY seq LIMIT ?`),
    nextVersion: db.prepare('SELECT COALESCE(MAX(version), 0) + 1 AS version FROM config_versions WHERE kind = ? AND id = ?'),
    insertVersion: db.prepare(`INSERT INTO config_versions (seq, kind, id, version, body, effective_at, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
    insertAudit: db.prepare('INSERT INTO config_audit (seq, kind, id, version, actor, at, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    history: db.prepare(`SELECT ${VERSION_COLUMNS.replace(/\b(seq|kind|id|version|body)\b/g, 'v.$1')}, a.actor, a.before
        FROM config_versions v JOIN config_audit a ON a.seq = v.seq
        WHERE v.kind = ? AND v.id = ? AND v.version < ? ORDER BY v.version DESC LIMIT ?`),
    configFile: db.prepare('SELECT body FROM config_file WHERE id = 1'),
    saveConfigFile: db.prepare(`INSERT INTO config_file (id, body, applied_at) VALUES (1, ?, ?)
        ON CONFLICT (id) DO UPDATE SET body = excluded.body, applied_at = excluded.applied_at`),
    rollups: db.prepare(`SELECT day, container, kind, subject, units FROM rollups WHERE account = ? AND day >= ? AND day < ?
        ORDER BY day, container, kind, subject`),
    conversations: db.prepare(`SELECT container, conversation, bot, session, started_at AS startedAt, day, last_event_at AS lastEventAt,
          ended_at AS endedAt, status, bot_ms AS botMs, sessions FROM conversations
        WHERE account = ? AND started_at >= ? AND started_at < ? ORDER BY started_at`),
    rejectionsByCount: db.prepare(rejectionsQuery('count DESC, lastSeen DESC')),
    rejectionsByLastSeen: db.prepare(rejectionsQuery('lastSeen DESC, count DESC')),
    insertGrant: db.prepare(`INSERT INTO email_grants (account, id, month, emails, note, granted_at, pack, price, currency)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, id) DO NOTHING`),
    grant: db.prepare(`SELECT ${GRANT_COLUMNS} FROM email_grants WHERE account = ? AND id = ?`),
    insertPortal: db.prepare(`INSERT INTO portal_sessions (account, id, session, member, return_url, created_at, expires_at, opened_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    openPortal: db.prepare(`UPDATE portal_sessions SET session = ?, opened_at = ?
        WHERE account = ? AND id = ? AND opened_at IS NULL AND expires_at > ?`),
    portalById: db.prepare(`SELECT ${PORTAL_COLUMNS} FROM portal_sessions WHERE account = ? AND id = ?`),
    portalBySession: db.prepare(`SELECT ${PORTAL_COLUMNS} FROM portal_sessions WHERE account = ? AND session = ?`),
    prunePortal: db.prepare('DELETE FROM portal_sessions WHERE account = ? AND expires_at < ?'),
    insertFact: db.prepare('INSERT INTO account_facts (account, kind, id, at, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    fact: db.prepare('SELECT kind, id, at, body FROM account_facts WHERE account = ? AND kind = ? AND id = ?'),
    facts: db.prepare('SELECT kind, id, at, body FROM account_facts WHERE account = ? AND kind = ? ORDER BY at, id'),
    grants: db.prepare(`SELECT ${GRANT_COLUMNS} FROM email_grants WHERE account = ? AND month >= ? AND month < ? ORDER BY granted_at, id`),
    insertEndpoint: db.prepare('INSERT INTO webhook_endpoints (account, id, url, secret, created_at) VALUES (?, ?, ?, ?, ?)'),
    endpoints: db.prepare('SELECT id, url, secret, created_at AS createdAt FROM webhook_endpoints WHERE account = ? ORDER BY created_at, id'),
    deleteEndpoint: db.prepare('DELETE FROM webhook_endpoints WHERE account = ? AND id = ?'),
    dropPending: db.prepare("DELETE FROM webhook_deliveries WHERE account = ? AND endpoint = ? AND status = 'pending'"),
    nextEventSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM webhook_events WHERE account = ?'),
    insertEvent: db.prepare(`INSERT INTO webhook_events (account, seq, key, id, type, created, data) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO NOTHING`),
    fanOut: db.prepare(`INSERT INTO webhook_deliveries (account, seq, endpoint, status, attempts, next_at)
        SELECT account, ?, id, 'pending', 0, ? FROM webhook_endpoints WHERE account = ?
        ON CONFLICT (account, seq, endpoint) DO UPDATE SET status = 'pending', attempts = 0, next_at = excluded.next_at`),
    // The head of each (account, endpoint) queue first, from the pending index alone; then only
    // the heads are read whole, so a backlog behind a down endpoint costs an index scan.
    dueDeliveries: db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM
          (SELECT account, endpoint, MIN(seq) AS seq FROM webhook_deliveries WHERE status = 'pending' GROUP BY account, endpoint) h
        JOIN webhook_deliveries d ON d.account = h.account AND d.endpoint = h.endpoint AND d.seq = h.seq
        JOIN webhook_events e ON e.account = d.account AND e.seq = d.seq
        WHERE d.next_at <= ? ORDER BY d.next_at LIMIT ?`),
    updateDelivery: db.prepare(`UPDATE webhook_deliveries SET status = ?, attempts = ?, next_at = ?, last_at = ?, last_status = ?, last_error = ?
        WHERE account = ? AND seq = ? AND endpoint = ?`),
    deliveries: db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d
        JOIN webhook_events e ON e.account = d.account AND e.seq = d.seq
        WHERE d.account = ? AND d.seq < ? ORDER BY d.seq DESC, d.endpoint LIMIT ?`),
    eventSeq: db.prepare('SELECT seq FROM webhook_events WHERE account = ? AND id = ?'),
    ping: db.prepare('SELECT 1'),
    // Evidence: keyset pages, each a range scan of an index in its order (0004_evidence.sql).
    unitContainers: db.prepare(`SELECT DISTINCT container FROM rollups WHERE account = ? AND kind = ? AND day >= ? AND day < ?
        ORDER BY container`),
    ...unitPages(db, 'impressions', 'campaign'),
    ...unitPages(db, 'engagements', 'advisor'),
    conversationFirst: db.prepare(`SELECT ${EVIDENCE_CONVERSATION} FROM conversations
        WHERE account = ? AND started_at >= ? AND started_at < ? AND sessions > 0
        ORDER BY started_at, container, conversation LIMIT ?`),
    conversationNext: db.prepare(`SELECT ${EVIDENCE_CONVERSATION} FROM conversations
        WHERE account = ? AND (started_at, container, conversation) > (?, ?, ?) AND started_at < ? AND sessions > 0
        ORDER BY started_at, container, conversation LIMIT ?`),
    usageFirst: db.prepare(`SELECT ${EVIDENCE_USAGE} FROM usage_events WHERE account = ? AND type = ? AND day >= ? AND day < ?
        ORDER BY day, id LIMIT ?`),
    usageNext: db.prepare(`SELECT ${EVIDENCE_USAGE} FROM usage_events WHERE account = ? AND type = ? AND (day, id) > (?, ?) AND day < ?
        ORDER BY day, id LIMIT ?`),
  }
}

const GRANT_COLUMNS = 'id, month, emails, note, granted_at AS grantedAt, pack, price, currency'

const DELIVERY_COLUMNS = `d.account, d.seq, d.endpoint, d.status, d.attempts, d.next_at AS nextAt, d.last_at AS lastAt,
  d.last_status AS lastStatus, d.last_error AS lastError, e.id, e.type, e.created, e.data`

interface DeliveryDbRow extends Omit<DeliveryRow, 'event'> { id: string; type: string; created: number; data: string }

const deliveryRow = ({ id, type, created, data, ...d }: DeliveryDbRow): DeliveryRow =>
  ({ ...d, event: { id, type, created, data: JSON.parse(data) as unknown } })

type Statements = ReturnType<typeof prepare>

/** Ties broken by the key, so that pages never overlap or skip. */
function rejectionsQuery(order: string): string {
  return `SELECT container, reason, origin, subject, SUM(count) AS count, MIN(first_seen) AS firstSeen, MAX(last_seen) AS lastSeen
    FROM rejections WHERE account = ? AND day >= ? AND last_seen >= ? GROUP BY container, reason, origin, subject
    ORDER BY ${order}, container, reason, origin, subject LIMIT ? OFFSET ?`
}

const DAY_MS = 86_400_000

const FAR_FUTURE_DAY = '9999-12-31'

export class SqliteRepository implements Repository {
  constructor(private readonly st: Statements) {}

  async insertUnits(_account: string, container: string, units: readonly UnitRow[]): Promise<boolean[]> {
    const { impression, engagement } = this.st
    return units.map((u) => (u.kind === 'campaign' ? impression : engagement).run(container, u.session, u.subject, u.eventId, u.time).changes === 1)
  }

  async insertChatEvents(_account: string, container: string, events: readonly ChatEventRow[]): Promise<boolean[]> {
    return events.map((e) =>
      this.st.chatEvent.run(container, e.conversation, e.eventId, e.phase, e.time, e.receivedAt, e.state ? JSON.stringify(e.state) : null).changes === 1)
  }

  async chatTail(_account: string, container: string, conversation: string, limit: number): Promise<TailEvent[]> {
    return (this.st.chatTail.all(container, conversation, limit) as (PhaseEvent & { state: string | null })[])
      .map((r) => ({ ...r, state: r.state ? JSON.parse(r.state) as ConversationState : null }))
  }

  async saveChatStates(_account: string, container: string, conversation: string, states: readonly { eventId: string; state: ConversationState }[]): Promise<void> {
    for (const s of states) this.st.chatState.run(JSON.stringify(s.state), container, conversation, s.eventId)
  }

  async chatEvents(_account: string, container: string, conversation: string): Promise<PhaseEvent[]> {
    return (this.st.chatEvents.all(container, conversation) as { id: string; phase: ChatPhase; time: number; receivedAt: number }[])
  }

  async conversationRecords(_account: string, container: string, conversations: readonly string[]): Promise<ConversationRecord[]> {
    const out: ConversationRecord[] = []
    for (const id of conversations) {
      const r = this.st.conversation.get(container, id) as ConversationDbRow | undefined
      if (!r) continue
      const state: ConversationState = {
        startedAt: r.startedAt, lastEventAt: r.lastEventAt, latestAt: r.latestAt, endedAt: r.endedAt, closed: r.closed === 1,
        active: r.active === 1, botMs: r.botMs, firstReceivedAt: r.firstReceivedAt, lastReceivedAt: r.lastReceivedAt, events: r.events,
      }
      out.push({
        conversation: r.conversation, bot: r.bot, session: r.session, day: r.day, sessions: r.sessions, status: r.status, state,
        ...(r.suspicious === 1 ? { suspicious: true } : {}),
      })
    }
    return out
  }

  async saveConversations(account: string, container: string, records: readonly ConversationRecord[]): Promise<void> {
    for (const r of records) {
      const s = r.state
      this.st.saveConversation.run({
        container, conversation: r.conversation, account, bot: r.bot, session: r.session, day: r.day, sessions: r.sessions,
        status: r.status, startedAt: s.startedAt, lastEventAt: s.lastEventAt, endedAt: s.endedAt, botMs: s.botMs,
        latestAt: s.latestAt, closed: s.closed ? 1 : 0, active: s.active ? 1 : 0, firstReceivedAt: s.firstReceivedAt,
        lastReceivedAt: s.lastReceivedAt, events: s.events, suspicious: r.suspicious ? 1 : 0,
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

  async lockAccount(): Promise<void> {
    // One writer at a time: the engine's transaction already holds the database.
  }

  async usageEvents(account: string, ids: readonly string[]): Promise<Map<string, UsageEventRow>> {
    const out = new Map<string, UsageEventRow>()
    for (const id of ids) {
      const r = this.st.usageEvent.get(account, id) as UsageEventRow | undefined
      if (r) out.set(id, r)
    }
    return out
  }

  async insertUsageEvent(account: string, r: UsageEventRow): Promise<void> {
    this.st.insertUsage.run(account, r.id, r.type, r.day, r.time, r.receivedAt, r.quantity, r.credits, r.member)
  }

  async addUsageDaily(account: string, day: string, add: DailyAdd): Promise<void> {
    this.st.addDaily.run(account, day, add.alerts, add.emails, add.contacts)
  }

  async usageDaily(account: string, fromDay = '', toDay = FAR_FUTURE_DAY): Promise<UsageRow[]> {
    // Rows as arrays, each object built once here: better-sqlite3's own row objects cost twice as
    // much, and the billing run reads every day of every account.
    const rows = this.st.daily.all(account, fromDay, toDay) as [string, number, number, number | null][]
    const out: UsageRow[] = []
    for (const [day, alerts, emails, contacts] of rows) out.push(contacts === null ? { day, alerts, emails } : { day, alerts, emails, contacts })
    return out
  }

  async lastContacts(account: string, beforeDay: string): Promise<number | null> {
    const row = this.st.lastContacts.get(account, beforeDay) as { contacts: number } | undefined
    return row ? row.contacts : null
  }

  async pageDaily(account: string): Promise<UsageRow[]> {
    const rows = this.st.pageDaily.all(account) as [string, number, number, number][]
    const out: UsageRow[] = []
    for (const [day, impressions, engagements, chatSessions] of rows) out.push({ day, impressions, engagements, chatSessions })
    return out
  }

  async billingReads(account: string): Promise<BillingReads> {
    // One thread, no round trips: the reads one by one.
    const [page, server, ledger, invoices, grants, details] = await Promise.all([
      this.pageDaily(account), this.usageDaily(account), this.ledger(account), this.invoices(account), this.emailGrants(account, '', FAR_FUTURE_DAY),
      this.facts(account, 'billing_details'),
    ])
    return { page, server, ledger, invoices, grants, details }
  }

  async ledgerHead(account: string): Promise<number> {
    return (this.st.ledgerHead.get(account) as { seq: number }).seq
  }

  async ledger(account: string): Promise<LedgerEntry[]> {
    return (this.st.ledger.all(account) as { entry: string }[]).map((r) => JSON.parse(r.entry) as LedgerEntry)
  }

  async appendLedger(account: string, rows: readonly { key: LedgerKey; entry: LedgerEntry }[]): Promise<number> {
    for (const { key, entry: e } of rows) {
      this.st.append.run(account, key.source, key.ref, key.leg, e.id, e.type, e.wallet, e.at, e.credits, JSON.stringify(e))
    }
    return this.ledgerHead(account)
  }

  async ledgerEntries(account: string, keys: readonly LedgerKey[]): Promise<LedgerEntry[]> {
    return keys.flatMap((k) => (this.st.ledgerEntry.all(account, k.source, k.ref, k.leg) as { entry: string }[]))
      .map((r) => JSON.parse(r.entry) as LedgerEntry)
  }

  async creditBook(account: string): Promise<CreditBookRow | null> {
    const r = this.st.creditBook.get(account) as
      { head: number; dueThrough: number | null; wallets: string; granted: number; purchased: number; spent: number; expired: number } | undefined
    if (!r) return null
    return {
      head: r.head, dueThrough: r.dueThrough, wallets: JSON.parse(r.wallets) as string[],
      totals: { granted: r.granted, purchased: r.purchased, spent: r.spent, expired: r.expired },
    }
  }

  async openLots(account: string): Promise<Lot[]> {
    return (this.st.openLots.all(account) as Parameters<typeof lotOf>[0][]).map(lotOf)
  }

  async creditLots(account: string, lots: readonly string[]): Promise<Lot[]> {
    return lots.flatMap((l) => this.st.creditLot.all(account, l) as Parameters<typeof lotOf>[0][]).map(lotOf)
  }

  async saveCreditBook(account: string, book: CreditBookRow, lots: readonly StoredLot[]): Promise<void> {
    const t = book.totals
    this.st.saveCreditBook.run(account, book.head, book.dueThrough, JSON.stringify(book.wallets), t.granted, t.purchased, t.spent, t.expired)
    for (const l of lots) {
      this.st.saveLot.run(account, l.lot, account, l.wallet, l.kind, l.at, l.expiresAt, l.remaining, l.expired ? 1 : 0, l.open ? 1 : 0)
    }
  }

  async invoices(account: string, keys?: readonly string[]): Promise<Invoice[]> {
    const rows = keys === undefined
      ? (this.st.invoices.all(account) as { invoice: string }[])
      : keys.flatMap((k) => (this.st.invoice.all(account, k) as { invoice: string }[]))
    const out = rows.map((r) => JSON.parse(r.invoice) as Invoice)
    return keys === undefined ? out : out.sort((a, b) => (a.number ?? 0) - (b.number ?? 0))
  }

  async insertInvoices(account: string, invoices: readonly Invoice[], finalizedAt: number): Promise<void> {
    for (const i of invoices) {
      this.st.insertInvoice.run(account, i.key, i.number, i.kind, i.issuedAt, i.currency, i.total, JSON.stringify(i), finalizedAt)
    }
  }

  async lockConfig(): Promise<void> {
    // One writer at a time: the engine's transaction already holds the database.
  }

  async configHead(): Promise<number> {
    return (this.st.configHead.get() as { seq: number }).seq
  }

  async configVersions(afterSeq: number, limit: number): Promise<ConfigVersionRow[]> {
    return (this.st.configVersions.all(afterSeq, limit) as StoredVersion[]).map(versionRow)
  }

  async insertConfigVersion(v: NewConfigVersion): Promise<ConfigVersionRow> {
    const seq = (this.st.configHead.get() as { seq: number }).seq + 1
    const { version } = this.st.nextVersion.get(v.kind, v.id) as { version: number }
    const body = v.body === null || v.body === undefined ? null : JSON.stringify(v.body)
    const before = v.before === null || v.before === undefined ? null : JSON.stringify(v.before)
    this.st.insertVersion.run(seq, v.kind, v.id, version, body, v.effectiveAt, v.createdAt)
    this.st.insertAudit.run(seq, v.kind, v.id, version, v.actor, v.createdAt, before, body)
    return { seq, kind: v.kind, id: v.id, version, body: v.body ?? null, effectiveAt: v.effectiveAt, createdAt: v.createdAt }
  }

  async configHistory(kind: ConfigKind, id: string, limit: number, beforeVersion?: number): Promise<ConfigHistoryRow[]> {
    return (this.st.history.all(kind, id, beforeVersion ?? Number.MAX_SAFE_INTEGER, limit) as (StoredVersion & { actor: string; before: string | null })[])
      .map((r) => ({ ...versionRow(r), actor: r.actor, before: r.before === null ? null : JSON.parse(r.before) as unknown }))
  }

  async configFile(): Promise<unknown> {
    const r = this.st.configFile.get() as { body: string } | undefined
    return r ? JSON.parse(r.body) as unknown : null
  }

  async saveConfigFile(body: unknown, at: number): Promise<void> {
    this.st.saveConfigFile.run(JSON.stringify(body), at)
  }

  async configChanges(): Promise<ConfigChange[]> {
    return (this.st.changes.all() as { kind: ConfigChange['kind']; id: string; body: string }[])
      .map((r) => ({ kind: r.kind, id: r.id, body: JSON.parse(r.body) as unknown }))
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

  async insertEmailGrant(account: string, g: EmailGrantRow): Promise<{ grant: EmailGrantRow; created: boolean }> {
    const created = this.st.insertGrant.run(account, g.id, g.month, g.emails, g.note, g.grantedAt, g.pack, g.price, g.currency).changes === 1
    return { grant: this.st.grant.get(account, g.id) as EmailGrantRow, created }
  }

  async emailGrants(account: string, fromDay: string, toDay: string): Promise<EmailGrantRow[]> {
    return this.st.grants.all(account, fromDay, toDay) as EmailGrantRow[]
  }

  async insertPortalSession(account: string, r: PortalSessionRow): Promise<void> {
    this.st.insertPortal.run(account, r.id, r.session, r.member, r.returnUrl, r.createdAt, r.expiresAt, r.openedAt)
  }

  async openPortalLink(account: string, id: string, session: string, at: number): Promise<PortalSessionRow | null> {
    if (this.st.openPortal.run(session, at, account, id, at).changes !== 1) return null
    return (this.st.portalById.get(account, id) as PortalSessionRow | undefined) ?? null
  }

  async portalSession(account: string, session: string): Promise<PortalSessionRow | null> {
    return (this.st.portalBySession.get(account, session) as PortalSessionRow | undefined) ?? null
  }

  async prunePortalSessions(account: string, before: number): Promise<number> {
    return this.st.prunePortal.run(account, before).changes
  }

  async insertFact(account: string, f: FactRow): Promise<{ fact: FactRow; created: boolean }> {
    const created = this.st.insertFact.run(account, f.kind, f.id, f.at, JSON.stringify(f.body)).changes === 1
    return { fact: factOf(this.st.fact.get(account, f.kind, f.id) as Parameters<typeof factOf>[0]), created }
  }

  async facts(account: string, kind: FactKind): Promise<FactRow[]> {
    return (this.st.facts.all(account, kind) as Parameters<typeof factOf>[0][]).map(factOf)
  }

  async fact(account: string, kind: FactKind, id: string): Promise<FactRow | null> {
    const r = this.st.fact.get(account, kind, id) as Parameters<typeof factOf>[0] | undefined
    return r ? factOf(r) : null
  }

  async insertWebhookEndpoint(account: string, e: WebhookEndpointRow): Promise<void> {
    this.st.insertEndpoint.run(account, e.id, e.url, e.secret, e.createdAt)
  }

  async webhookEndpoints(account: string): Promise<WebhookEndpointRow[]> {
    return this.st.endpoints.all(account) as WebhookEndpointRow[]
  }

  async deleteWebhookEndpoint(account: string, id: string): Promise<boolean> {
    const gone = this.st.deleteEndpoint.run(account, id).changes === 1
    if (gone) this.st.dropPending.run(account, id)
    return gone
  }

  async insertOutboxEvent(account: string, e: OutboxEvent): Promise<boolean> {
    const { seq } = this.st.nextEventSeq.get(account) as { seq: number }
    if (this.st.insertEvent.run(account, seq, e.key, e.id, e.type, e.created, JSON.stringify(e.data)).changes === 0) return false
    this.st.fanOut.run(seq, e.created, account)
    return true
  }

  async dueDeliveries(now: number, limit: number): Promise<DeliveryRow[]> {
    return (this.st.dueDeliveries.all(now, limit) as DeliveryDbRow[]).map(deliveryRow)
  }

  async updateDelivery(account: string, seq: number, endpoint: string, u: DeliveryUpdate): Promise<void> {
    this.st.updateDelivery.run(u.status, u.attempts, u.nextAt, u.lastAt, u.lastStatus, u.lastError, account, seq, endpoint)
  }

  async deliveries(account: string, limit: number, beforeSeq = Number.MAX_SAFE_INTEGER): Promise<DeliveryRow[]> {
    return (this.st.deliveries.all(account, beforeSeq, limit) as DeliveryDbRow[]).map(deliveryRow)
  }

  async redeliver(account: string, eventId: string, now: number): Promise<number | null> {
    const found = this.st.eventSeq.get(account, eventId) as { seq: number } | undefined
    if (!found) return null
    return this.st.fanOut.run(found.seq, now, account).changes
  }

  async unitContainers(account: string, kind: 'campaign' | 'advisor', fromDay: string, toDay: string): Promise<string[]> {
    return (this.st.unitContainers.all(account, kind, fromDay, toDay) as { container: string }[]).map((r) => r.container)
  }

  async unitPage(
    _account: string, container: string, kind: 'campaign' | 'advisor', from: number, to: number, after: UnitCursor | null, limit: number,
  ): Promise<UnitEvidence[]> {
    // The account chose the container (unitContainers): unit rows carry no account of their own.
    return (after === null
      ? this.st[`${kind}First`].all(container, from, to, limit)
      : this.st[`${kind}Next`].all(container, after.time, after.session, after.subject, to, limit)) as UnitEvidence[]
  }

  async conversationPage(account: string, from: number, to: number, after: ConversationCursor | null, limit: number): Promise<ConversationEvidence[]> {
    return (after === null
      ? this.st.conversationFirst.all(account, from, to, limit)
      : this.st.conversationNext.all(account, after.startedAt, after.container, after.conversation, to, limit)) as ConversationEvidence[]
  }

  async usageEventPage(
    account: string, type: UsageEventRow['type'], fromDay: string, toDay: string, after: UsageEventCursor | null, limit: number,
  ): Promise<UsageEventRow[]> {
    return (after === null
      ? this.st.usageFirst.all(account, type, fromDay, toDay, limit)
      : this.st.usageNext.all(account, type, after.day, after.id, toDay, limit)) as UsageEventRow[]
  }

  async ping(): Promise<void> {
    this.st.ping.get()
  }
}
