/**
 * The accounts' settings on PostgreSQL, SQL only: the configuration's versions and changes, the
 * billing portal's sessions and account facts, and webhook endpoints, the outbox and its
 * deliveries. ./repository.ts adds usage, credits, invoices and email grants on top; ./events.ts,
 * underneath, what the page's events write and read.
 */
import type {
  ConfigChange,
  ConfigHistoryRow,
  ConfigKind,
  ConfigVersionRow,
  NewConfigVersion,
  DeliveryRow,
  DeliveryUpdate,
  FactKind,
  FactRow,
  PortalSessionRow,
  OutboxEvent,
  WebhookEndpointRow,
} from '../repository.js'
import { PORTAL_COLUMNS, DELIVERY_COLUMNS, type DeliveryDbRow, deliveryRow, dueDeliveriesSql, FAN_OUT, VERSION_COLUMNS } from './sql.js'
import { PgEventsRepository } from './events.js'

export abstract class PgAccountsRepository extends PgEventsRepository {
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
    const rows = await this.q<{ seq: number; version: number }>(
      `WITH n AS (
        SELECT (SELECT coalesce(max(seq), 0) + 1 FROM config_versions)::bigint AS seq,
          (SELECT coalesce(max(version), 0) + 1 FROM config_versions WHERE kind = $1 AND id = $2)::int AS version),
      v AS (INSERT INTO config_versions (seq, kind, id, version, body, effective_at, created_at)
        SELECT seq, $1, $2, version, $3::json, $4, $5 FROM n RETURNING seq, version),
      a AS (INSERT INTO config_audit (seq, kind, id, version, actor, at, before, after)
        SELECT seq, $1, $2, version, $6, $5, $7::json, $3::json FROM n)
      SELECT seq, version FROM v`,
      [v.kind, v.id, body, v.effectiveAt, v.createdAt, v.actor, v.before === null || v.before === undefined ? null : JSON.stringify(v.before)],
    )
    const { seq, version } = rows[0]!
    // Delivered at COMMIT to every collector listening (docs/scaling.md); nothing when it rolls back.
    await this.q(`SELECT pg_notify('tally_config', $1)`, [String(seq)])
    return { seq, kind: v.kind, id: v.id, version, body: v.body ?? null, effectiveAt: v.effectiveAt, createdAt: v.createdAt }
  }

  async configHistory(kind: ConfigKind, id: string, limit: number, beforeVersion?: number): Promise<ConfigHistoryRow[]> {
    return this.q<ConfigHistoryRow>(
      `SELECT v.seq, v.kind, v.id, v.version, v.body, v.effective_at AS "effectiveAt", v.created_at AS "createdAt",
        a.actor, a.before
      FROM config_versions v JOIN config_audit a ON a.seq = v.seq
      WHERE v.kind = $1 AND v.id = $2 AND v.version < $3 ORDER BY v.version DESC LIMIT $4`,
      [kind, id, beforeVersion ?? 2_147_483_647, limit],
    )
  }

  async configFile(): Promise<unknown> {
    return (await this.q<{ body: unknown }>('SELECT body FROM config_file WHERE id = 1'))[0]?.body ?? null
  }

  async saveConfigFile(body: unknown, at: number): Promise<void> {
    await this.send(
      `INSERT INTO config_file (id, body, applied_at) VALUES (1, $1::json, $2)
      ON CONFLICT (id) DO UPDATE SET body = excluded.body, applied_at = excluded.applied_at`,
      [JSON.stringify(body), at],
    )
  }

  async configChanges(): Promise<ConfigChange[]> {
    return this.q<ConfigChange>('SELECT kind, id, body FROM config_changes ORDER BY seq')
  }

  async insertPortalSession(account: string, r: PortalSessionRow): Promise<void> {
    await this.send(
      `INSERT INTO portal_sessions (account, id, session, member, return_url, created_at, expires_at, opened_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [account, r.id, r.session, r.member, r.returnUrl, r.createdAt, r.expiresAt, r.openedAt],
    )
  }

  async openPortalLink(account: string, id: string, session: string, at: number): Promise<PortalSessionRow | null> {
    const rows = await this.q<PortalSessionRow>(
      `UPDATE portal_sessions SET session = $1, opened_at = $2
      WHERE account = $3 AND id = $4 AND opened_at IS NULL AND expires_at > $2 RETURNING ${PORTAL_COLUMNS}`,
      [session, at, account, id],
    )
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
    const inserted = await this.q<FactRow>(
      `INSERT INTO account_facts (account, kind, id, at, body) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (account, kind, id) DO NOTHING RETURNING kind, id, at, body`,
      [account, f.kind, f.id, f.at, JSON.stringify(f.body)],
    )
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
    await this.send('INSERT INTO webhook_endpoints (account, id, url, secret, created_at) VALUES ($1, $2, $3, $4, $5)', [
      account,
      e.id,
      e.url,
      e.secret,
      e.createdAt,
    ])
  }

  async webhookEndpoints(account: string): Promise<WebhookEndpointRow[]> {
    return this.q<WebhookEndpointRow>(
      `SELECT id, url, secret, created_at AS "createdAt" FROM webhook_endpoints WHERE account = $1
      ORDER BY created_at, id`,
      [account],
    )
  }

  async deleteWebhookEndpoint(account: string, id: string): Promise<boolean> {
    const rows = await this.q<{ n: number }>(
      `WITH gone AS (DELETE FROM webhook_endpoints WHERE account = $1 AND id = $2 RETURNING id),
        dropped AS (DELETE FROM webhook_deliveries WHERE account = $1 AND endpoint IN (SELECT id FROM gone) AND status = 'pending')
      SELECT count(*)::int AS n FROM gone`,
      [account, id],
    )
    return (rows[0]?.n ?? 0) === 1
  }

  async insertOutboxEvent(account: string, e: OutboxEvent): Promise<boolean> {
    // The next position is max + 1: the caller holds lockAccount, so no other collector computes
    // the same one meanwhile. Only the fact's key is a no-op on conflict: a position taken anyway
    // fails the transaction (and is retried) instead of dropping the event.
    const rows = await this.q<{ seq: number }>(
      `WITH s AS (
        INSERT INTO webhook_events (account, seq, key, id, type, created, data)
        SELECT $1, coalesce(max(seq), 0) + 1, $2, $4, $5, $3, $6::json FROM webhook_events WHERE account = $1
        ON CONFLICT (account, key) DO NOTHING RETURNING seq),
      f AS (${FAN_OUT})
      SELECT seq FROM s`,
      [account, e.key, e.created, e.id, e.type, JSON.stringify(e.data)],
    )
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
    await this.send(
      `UPDATE webhook_deliveries SET status = $4, attempts = $5, next_at = $6, last_at = $7, last_status = $8, last_error = $9
      WHERE account = $1 AND seq = $2 AND endpoint = $3`,
      [account, seq, endpoint, u.status, u.attempts, u.nextAt, u.lastAt, u.lastStatus, u.lastError],
    )
  }

  async deliveries(account: string, limit: number, beforeSeq = Number.MAX_SAFE_INTEGER): Promise<DeliveryRow[]> {
    const rows = await this.q<DeliveryDbRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d
        JOIN webhook_events e ON e.account = d.account AND e.seq = d.seq
      WHERE d.account = $1 AND d.seq < $2 ORDER BY d.seq DESC, d.endpoint LIMIT $3`,
      [account, beforeSeq, limit],
    )
    return rows.map(deliveryRow)
  }

  async redeliver(account: string, eventId: string, now: number): Promise<number | null> {
    const rows = await this.q<{ found: boolean; n: number }>(
      `WITH s AS (SELECT seq FROM webhook_events WHERE account = $1 AND id = $2),
        f AS (${FAN_OUT})
      SELECT EXISTS (SELECT 1 FROM s) AS found, (SELECT count(*)::int FROM f) AS n`,
      [account, eventId, now],
    )
    return rows[0]?.found ? rows[0].n : null
  }
}
