/** The statements' shared parts on PostgreSQL (./events.ts, ./accounts.ts, ./repository.ts): column lists, row mappers, named statements. */
import pg from 'pg'
import { createHash } from 'node:crypto'
import type { ConversationRecord, DeliveryRow } from '../repository.js'

/** A connection or the pool: what a repository sends its statements through. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>

export const INT8 = 20
export const NUMERIC = 1700
/**
 * bigint (ms, counts) and numeric (`SUM` of bigint) as JS numbers: every value stored here is an
 * integer far below 2^53. Per query, so the process-wide parsers of `pg` stay untouched.
 */
export const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

export const LOT_COLUMNS = 'lot, wallet, kind, at, expires_at AS "expiresAt", remaining, expired'

/** `account` of a rejection whose container is unknown: no account id is empty (docs/rules.md). */
export const NO_ACCOUNT = ''
export const FAR_FUTURE_DAY = '9999-12-31'
export const DAY_MS = 86_400_000

/**
 * Every statement is prepared once per connection under a name of its own text: the server then
 * parses and plans it once, not on every beacon (measured in bench/ingest-pg).
 */
export const names = new Map<string, string>()
export function statementName(text: string): string {
  let name = names.get(text)
  if (!name) {
    name = `tally_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`
    names.set(text, name)
  }
  return name
}

export const key = (...parts: string[]) => JSON.stringify(parts)

/** Per input row: true for the first row whose key the statement returned (it was inserted). */
export function fresh<T>(rows: readonly T[], keyOf: (r: T) => string, inserted: Iterable<string>): boolean[] {
  const left = new Set(inserted)
  return rows.map((r) => left.delete(keyOf(r)))
}

export const CONVERSATION_COLUMNS = `conversation, bot, session, day, sessions, status, started_at AS "startedAt",
  last_event_at AS "lastEventAt", latest_at AS "latestAt", ended_at AS "endedAt", closed, active, bot_ms AS "botMs",
  first_received_at AS "firstReceivedAt", last_received_at AS "lastReceivedAt", events, suspicious`

export const PORTAL_COLUMNS = `id, session, member, return_url AS "returnUrl", created_at AS "createdAt", expires_at AS "expiresAt", opened_at AS "openedAt"`
export const GRANT_COLUMNS = 'id, month, emails, note, granted_at AS "grantedAt", pack, price, currency'

export const DELIVERY_COLUMNS = `d.account, d.seq, d.endpoint, d.status, d.attempts, d.next_at AS "nextAt", d.last_at AS "lastAt",
  d.last_status AS "lastStatus", d.last_error AS "lastError", e.id, e.type, e.created, e.data`

export interface DeliveryDbRow extends Omit<DeliveryRow, 'event'> {
  id: string
  type: string
  created: number
  data: unknown
}

export const deliveryRow = ({ id, type, created, data, ...d }: DeliveryDbRow): DeliveryRow => ({ ...d, event: { id, type, created, data } })

/**
 * The head of each pending (account, endpoint) queue, from the pending index alone; then only the
 * heads are read whole, so a backlog behind a down endpoint costs an index scan. `lock` is the
 * locking clause: see `dueDeliveries`.
 */
export const dueDeliveriesSql = (lock: string) => `SELECT ${DELIVERY_COLUMNS} FROM
    (SELECT account, endpoint, min(seq) AS seq FROM webhook_deliveries WHERE status = 'pending' GROUP BY account, endpoint) h
  JOIN webhook_deliveries d ON d.account = h.account AND d.endpoint = h.endpoint AND d.seq = h.seq
  JOIN webhook_events e ON e.account = d.account AND e.seq = d.seq
  WHERE d.status = 'pending' AND d.next_at <= $1 ORDER BY d.next_at, d.account, d.endpoint LIMIT $2${lock}`

/** Pending deliveries of the event in `s` of account `$1`, due at `$3`, one per endpoint the account has now (a retry starts over). */
export const FAN_OUT = `INSERT INTO webhook_deliveries (account, seq, endpoint, status, attempts, next_at)
  SELECT $1, s.seq, w.id, 'pending', 0, $3 FROM s, webhook_endpoints w WHERE w.account = $1 ORDER BY w.id
  ON CONFLICT (account, seq, endpoint) DO UPDATE SET status = 'pending', attempts = 0, next_at = excluded.next_at
  RETURNING 1`

export const EVIDENCE_CONVERSATION = `container, conversation, bot, session, started_at AS "startedAt", last_event_at AS "lastEventAt",
  ended_at AS "endedAt", first_received_at AS "firstReceivedAt", last_received_at AS "lastReceivedAt", bot_ms AS "botMs", sessions`
export const EVIDENCE_USAGE = 'id, type, day, time, received_at AS "receivedAt", quantity, credits, member'

/** The unit table of a kind and its subject column. */
export const UNIT_TABLE = { campaign: ['impressions', 'campaign'], advisor: ['engagements', 'advisor'] } as const

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
  closed: boolean
  active: boolean
  botMs: number
  firstReceivedAt: number
  lastReceivedAt: number
  events: number
  suspicious: boolean
}

export const VERSION_COLUMNS = 'seq, kind, id, version, body, effective_at AS "effectiveAt", created_at AS "createdAt"'
