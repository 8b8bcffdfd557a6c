/** The statements of one SQLite connection (`prepare`), and the column lists and row mappers the repository (./repository.ts, ./events.ts) shares. */
import type Database from 'better-sqlite3'
import type { Lot } from '@tally/billing'
import type { ConfigVersionRow, ConversationRecord, DeliveryRow, FactKind, FactRow } from '../repository.js'

export interface ConversationDbRow {
  conversation: string
  bot: string
  session: string
  day: string
  sessions: number
  status: ConversationRecord['status']
  startedAt: number
  lastEventAt: number
  latestAt: number
  endedAt: number | null
  closed: number
  active: number
  botMs: number
  firstReceivedAt: number
  lastReceivedAt: number
  events: number
  suspicious: number
}

/** The phase rank of the fold order (`comparePhaseEvents` in @tally/billing). */
export const PHASE_RANK = "CASE phase WHEN 'start' THEN 0 WHEN 'resume' THEN 1 WHEN 'ping' THEN 2 WHEN 'handoff' THEN 3 ELSE 4 END"

export const CONVERSATION_COLUMNS = `conversation, bot, session, day, sessions, status, started_at AS startedAt, last_event_at AS lastEventAt,
  latest_at AS latestAt, ended_at AS endedAt, closed, active, bot_ms AS botMs, first_received_at AS firstReceivedAt,
  last_received_at AS lastReceivedAt, events, suspicious`

export const EVIDENCE_CONVERSATION = `container, conversation, bot, session, started_at AS startedAt, last_event_at AS lastEventAt,
  ended_at AS endedAt, first_received_at AS firstReceivedAt, last_received_at AS lastReceivedAt, bot_ms AS botMs, sessions`
export const PORTAL_COLUMNS = `id, session, member, return_url AS returnUrl, created_at AS createdAt, expires_at AS expiresAt, opened_at AS openedAt`
export const factOf = (r: { kind: FactKind; id: string; at: number; body: string }): FactRow => ({ kind: r.kind, id: r.id, at: r.at, body: JSON.parse(r.body) })
export const LOT_COLUMNS = 'lot, wallet, kind, at, expires_at AS expiresAt, remaining, expired'

/** A stored lot as `@tally/billing` holds it. */
export function lotOf(r: Omit<Lot, 'expired'> & { expired: number }): Lot {
  return { lot: r.lot, wallet: r.wallet, kind: r.kind, at: r.at, expiresAt: r.expiresAt, remaining: r.remaining, expired: r.expired !== 0 }
}

export const EVIDENCE_USAGE = 'id, type, day, time, received_at AS receivedAt, quantity, credits, member'

/** The first and the next page of one unit table, by (time, session, subject) within a container. */
export function unitPages(db: Database.Database, table: 'impressions' | 'engagements', kind: 'campaign' | 'advisor') {
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
export const VERSION_COLUMNS = 'seq, kind, id, version, body, effective_at AS effectiveAt, created_at AS createdAt'
export type StoredVersion = Omit<ConfigVersionRow, 'body'> & { body: string | null }
export const versionRow = (r: StoredVersion): ConfigVersionRow => ({ ...r, body: r.body === null ? null : (JSON.parse(r.body) as unknown) })

export function prepare(db: Database.Database) {
  return {
    impression: db.prepare('INSERT INTO impressions (container, session, campaign, event_id, time) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    engagement: db.prepare('INSERT INTO engagements (container, session, advisor, event_id, time) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    chatEvent: db.prepare(`INSERT INTO chat_events (container, conversation, event_id, phase, time, received_at, state)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
    // Fold order, newest first: time, then the phase rank of @tally/billing comparePhaseEvents, then the id.
    // By the time index, whose order the sort only refines: the planner would otherwise take the
    // primary key and sort the whole conversation (0.65 ms instead of 0.16 for 500 events).
    chatTail: db.prepare(`SELECT event_id AS id, phase, time, received_at AS receivedAt, state FROM chat_events INDEXED BY chat_events_order
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
    pageDaily: db
      .prepare(`SELECT day,
          SUM(CASE WHEN kind = 'campaign' THEN units ELSE 0 END) AS impressions,
          SUM(CASE WHEN kind = 'advisor' THEN units ELSE 0 END) AS engagements,
          SUM(CASE WHEN kind = 'bot' THEN units ELSE 0 END) AS chatSessions
        FROM rollups WHERE account = ? AND day >= ? GROUP BY day ORDER BY day`)
      .raw(true),
    lastReading: db.prepare('SELECT day, contacts FROM usage_daily WHERE account = ? AND day < ? AND contacts IS NOT NULL ORDER BY day DESC LIMIT 1'),
    purchasesFrom: db.prepare("SELECT entry FROM ledger WHERE account = ? AND type = 'purchase' AND at >= ? ORDER BY seq"),
    invoicesFrom: db.prepare(`SELECT invoice FROM invoices WHERE account = ?
        AND number >= coalesce((SELECT number FROM invoices WHERE account = ? AND key = ?), 0) ORDER BY number`),
    lastRecurring: db.prepare("SELECT key FROM invoices WHERE account = ? AND kind = 'recurring' ORDER BY number DESC LIMIT 1"),
    ledgerHead: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM ledger WHERE account = ?'),
    lastInvoiceNumber: db.prepare('SELECT COALESCE(MAX(number), 0) AS n FROM invoices WHERE account = ?'),
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

export const GRANT_COLUMNS = 'id, month, emails, note, granted_at AS grantedAt, pack, price, currency'

export const DELIVERY_COLUMNS = `d.account, d.seq, d.endpoint, d.status, d.attempts, d.next_at AS nextAt, d.last_at AS lastAt,
  d.last_status AS lastStatus, d.last_error AS lastError, e.id, e.type, e.created, e.data`

export interface DeliveryDbRow extends Omit<DeliveryRow, 'event'> {
  id: string
  type: string
  created: number
  data: string
}

export const deliveryRow = ({ id, type, created, data, ...d }: DeliveryDbRow): DeliveryRow => ({
  ...d,
  event: { id, type, created, data: JSON.parse(data) as unknown },
})

export type Statements = ReturnType<typeof prepare>

/** Ties broken by the key, so that pages never overlap or skip. */
export function rejectionsQuery(order: string): string {
  return `SELECT container, reason, origin, subject, SUM(count) AS count, MIN(first_seen) AS firstSeen, MAX(last_seen) AS lastSeen
    FROM rejections WHERE account = ? AND day >= ? AND last_seen >= ? GROUP BY container, reason, origin, subject
    ORDER BY ${order}, container, reason, origin, subject LIMIT ? OFFSET ?`
}

export const DAY_MS = 86_400_000

export const FAR_FUTURE_DAY = '9999-12-31'
