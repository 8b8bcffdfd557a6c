/**
 * The repository on PostgreSQL: SQL and nothing else. Every batch method is one statement over
 * arrays (`unnest`), so a 50-event beacon costs a handful of round trips whatever its size;
 * exactly-once comes from the unique keys of ./schema.ts with `ON CONFLICT DO NOTHING`, and the
 * keys a statement returns say which rows were new. Rows are written in key order so two
 * transactions touching the same keys wait for each other instead of deadlocking (a deadlock is
 * still retried by the engine). This file holds the accounts' billing tables (usage, credits,
 * invoices, emails); ./accounts.ts the configuration, the portal and webhooks; ./events.ts what the
 * page's events write and read; ./sql.ts the parts they share.
 */
import type { Invoice, LedgerEntry, Lot, UsageRow } from '@tally/billing'
import type {
  BillingReads,
  BillingReadWindow,
  CreditBookRow,
  DailyAdd,
  EmailGrantRow,
  LedgerKey,
  Repository,
  StoredLot,
  UsageEventCursor,
  UsageEventRow,
} from '../repository.js'
import { LOT_COLUMNS, FAR_FUTURE_DAY, GRANT_COLUMNS, EVIDENCE_USAGE } from './sql.js'
import { PgAccountsRepository } from './accounts.js'

export class PgRepository extends PgAccountsRepository implements Repository {
  async lockAccount(account: string): Promise<void> {
    // Held until COMMIT or ROLLBACK, across every collector on the database.
    await this.q(`SELECT pg_advisory_xact_lock(hashtext('tally:' || $1))`, [account])
  }

  async usageEvents(account: string, ids: readonly string[]): Promise<Map<string, UsageEventRow>> {
    const rows = await this.q<UsageEventRow>(
      `SELECT id, type, day, time, received_at AS "receivedAt", quantity, credits, member
      FROM usage_events WHERE account = $1 AND id = ANY($2::text[])`,
      [account, ids],
    )
    return new Map(rows.map((r) => [r.id, r]))
  }

  async insertUsageEvent(account: string, r: UsageEventRow): Promise<void> {
    await this.send(
      `INSERT INTO usage_events (account, id, type, day, time, received_at, quantity, credits, member)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [account, r.id, r.type, r.day, r.time, r.receivedAt, r.quantity, r.credits, r.member],
    )
  }

  async addUsageDaily(account: string, day: string, add: DailyAdd): Promise<void> {
    await this.send(
      `INSERT INTO usage_daily (account, day, alerts, emails, contacts) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (account, day) DO UPDATE SET alerts = usage_daily.alerts + excluded.alerts,
        emails = usage_daily.emails + excluded.emails,
        contacts = CASE WHEN excluded.contacts IS NULL THEN usage_daily.contacts
                        ELSE greatest(usage_daily.contacts, excluded.contacts) END`,
      [account, day, add.alerts, add.emails, add.contacts],
    )
  }

  async usageDaily(account: string, fromDay = '', toDay = FAR_FUTURE_DAY): Promise<UsageRow[]> {
    const rows = await this.q<{ day: string; alerts: number; emails: number; contacts: number | null }>(
      `
      SELECT day, alerts, emails, contacts FROM usage_daily WHERE account = $1 AND day >= $2 AND day < $3 ORDER BY day`,
      [account, fromDay, toDay],
    )
    return rows.map((r) => ({ day: r.day, alerts: r.alerts, emails: r.emails, ...(r.contacts === null ? {} : { contacts: r.contacts }) }))
  }

  async lastContacts(account: string, beforeDay: string): Promise<number | null> {
    const rows = await this.q<{ contacts: number }>(
      `
      SELECT contacts FROM usage_daily WHERE account = $1 AND day < $2 AND contacts IS NOT NULL ORDER BY day DESC LIMIT 1`,
      [account, beforeDay],
    )
    return rows[0] ? Number(rows[0].contacts) : null
  }

  async pageDaily(account: string, fromDay = ''): Promise<UsageRow[]> {
    return this.q<UsageRow>(
      `SELECT day,
        sum(CASE WHEN kind = 'campaign' THEN units ELSE 0 END) AS impressions,
        sum(CASE WHEN kind = 'advisor' THEN units ELSE 0 END) AS engagements,
        sum(CASE WHEN kind = 'bot' THEN units ELSE 0 END) AS "chatSessions"
      FROM rollups WHERE account = $1 AND day >= $2 GROUP BY day ORDER BY day`,
      [account, fromDay],
    )
  }

  async lastRecurringKey(account: string): Promise<string | null> {
    const rows = await this.q<{ key: string }>("SELECT key FROM invoices WHERE account = $1 AND kind = 'recurring' ORDER BY number DESC LIMIT 1", [account])
    return rows[0]?.key ?? null
  }

  async lockForBilling(account: string): Promise<string | null> {
    // One round trip: the lock (held until COMMIT or ROLLBACK, as `lockAccount`), then the key. The
    // statement's snapshot is taken before the lock is granted, so the key may be older than the
    // lock (see the contract), never newer.
    const rows = await this.q<{ key: string | null }>(
      `
      SELECT (SELECT key FROM invoices WHERE account = $1 AND kind = 'recurring' ORDER BY number DESC LIMIT 1) AS key
      FROM (SELECT pg_advisory_xact_lock(hashtext('tally:' || $1))) AS held`,
      [account],
    )
    return rows[0]?.key ?? null
  }

  async billingReads(account: string, window?: BillingReadWindow): Promise<BillingReads> {
    // One statement instead of seven: the billing run reads this for every account, and each round
    // trip costs the collector more than the rows do. Each list comes as one JSON array. Without a
    // window, its bounds read everything: the first day, the first instant, every invoice.
    const w = window ?? { fromDay: '', from: Number.MIN_SAFE_INTEGER, firstKey: '', keys: [] }
    const [row] = await this.q<{
      page: [string, number, number, number][]
      server: [string, number, number, number | null][]
      ledger: LedgerEntry[]
      invoices: Invoice[]
      grants: [string, string, number, string | null, number, string | null, number | null, string | null][]
      details: [string, number, unknown][]
      reading: [string, number] | null
    }>(
      `
      SELECT
        (SELECT coalesce(json_agg(json_build_array(day, i, e, c) ORDER BY day), '[]') FROM (SELECT day,
            sum(CASE WHEN kind = 'campaign' THEN units ELSE 0 END)::bigint AS i,
            sum(CASE WHEN kind = 'advisor' THEN units ELSE 0 END)::bigint AS e,
            sum(CASE WHEN kind = 'bot' THEN units ELSE 0 END)::bigint AS c
          FROM rollups WHERE account = $1 AND day >= $2 GROUP BY day) p) AS page,
        (SELECT coalesce(json_agg(json_build_array(day, alerts, emails, contacts) ORDER BY day), '[]') FROM usage_daily
          WHERE account = $1 AND day >= $2) AS server,
        (SELECT coalesce(json_agg(entry ORDER BY seq), '[]') FROM ledger WHERE account = $1 AND ($5 OR (type = 'purchase' AND at >= $3))) AS ledger,
        (SELECT coalesce(json_agg(invoice ORDER BY number), '[]') FROM invoices WHERE account = $1
          AND (number >= coalesce((SELECT number FROM invoices WHERE account = $1 AND key = $4), 0) OR key = ANY($6::text[]))) AS invoices,
        (SELECT coalesce(json_agg(json_build_array(id, month, emails, note, granted_at, pack, price, currency) ORDER BY granted_at, id), '[]')
          FROM email_grants WHERE account = $1 AND month >= $2) AS grants,
        (SELECT coalesce(json_agg(json_build_array(id, at, body) ORDER BY at, id), '[]')
          FROM account_facts WHERE account = $1 AND kind = 'billing_details') AS details,
        (SELECT json_build_array(day, contacts) FROM usage_daily WHERE $5 IS FALSE AND account = $1 AND day < $2 AND contacts IS NOT NULL
          ORDER BY day DESC LIMIT 1) AS reading`,
      [account, w.fromDay, w.from, w.firstKey, window === undefined, w.keys],
    )
    if (!row) throw new Error('the billing read answered no row')
    return {
      page: row.page.map(([day, impressions, engagements, chatSessions]) => ({ day, impressions, engagements, chatSessions })),
      server: row.server.map(([day, alerts, emails, contacts]) => (contacts === null ? { day, alerts, emails } : { day, alerts, emails, contacts })),
      ledger: row.ledger,
      invoices: row.invoices,
      grants: row.grants.map(([id, month, emails, note, grantedAt, pack, price, currency]) => ({ id, month, emails, note, grantedAt, pack, price, currency })),
      details: row.details.map(([id, at, body]) => ({ kind: 'billing_details', id, at, body })),
      reading: row.reading ? { day: row.reading[0], contacts: Number(row.reading[1]) } : null,
    }
  }
  async ledgerHead(account: string): Promise<number> {
    const rows = await this.q<{ seq: number }>('SELECT coalesce(max(seq), 0) AS seq FROM ledger WHERE account = $1', [account])
    return rows[0]?.seq ?? 0
  }

  async lastInvoiceNumber(account: string): Promise<number> {
    const rows = await this.q<{ n: number }>('SELECT coalesce(max(number), 0) AS n FROM invoices WHERE account = $1', [account])
    return Number(rows[0]?.n ?? 0)
  }

  async ledger(account: string): Promise<LedgerEntry[]> {
    return (await this.q<{ entry: LedgerEntry }>('SELECT entry FROM ledger WHERE account = $1 ORDER BY seq', [account])).map((r) => r.entry)
  }

  async appendLedger(account: string, rows: readonly { key: LedgerKey; entry: LedgerEntry }[]): Promise<number> {
    if (rows.length === 0) return this.ledgerHead(account)
    // WITH ORDINALITY + ORDER BY: the sequence numbers the entries in the order given. The head in
    // the same statement (one round trip, not two): the statement's snapshot does not see the rows
    // it inserts, so the head is the higher of the stored one and the newest inserted.
    const [row] = await this.q<{ seq: number }>(
      `
      WITH ins AS (
        INSERT INTO ledger (account, source, ref, leg, id, type, wallet, at, credits, entry)
        SELECT $1, src, ref, leg, id, type, wallet, at, credits, entry::json
        FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[])
          WITH ORDINALITY AS u(src, ref, leg, id, type, wallet, at, credits, entry, n)
        ORDER BY n
        ON CONFLICT (account, source, ref, leg) DO NOTHING
        RETURNING seq)
      SELECT coalesce(greatest((SELECT max(seq) FROM ins), (SELECT max(seq) FROM ledger WHERE account = $1)), 0) AS seq`,
      [
        account,
        rows.map((r) => r.key.source),
        rows.map((r) => r.key.ref),
        rows.map((r) => r.key.leg),
        rows.map((r) => r.entry.id),
        rows.map((r) => r.entry.type),
        rows.map((r) => r.entry.wallet),
        rows.map((r) => r.entry.at),
        rows.map((r) => r.entry.credits),
        rows.map((r) => JSON.stringify(r.entry)),
      ],
    )
    return row?.seq ?? 0
  }

  async ledgerEntries(account: string, keys: readonly LedgerKey[]): Promise<LedgerEntry[]> {
    if (keys.length === 0) return []
    return (
      await this.q<{ entry: LedgerEntry }>(
        `SELECT l.entry FROM unnest($2::text[], $3::text[], $4::text[]) AS k(src, ref, leg)
        JOIN ledger l ON l.account = $1 AND l.source = k.src AND l.ref = k.ref AND l.leg = k.leg`,
        [account, keys.map((k) => k.source), keys.map((k) => k.ref), keys.map((k) => k.leg)],
      )
    ).map((r) => r.entry)
  }

  async creditBook(account: string): Promise<CreditBookRow | null> {
    const [r] = await this.q<{
      head: number
      dueThrough: number | null
      wallets: string[]
      granted: number
      purchased: number
      spent: number
      expired: number
    }>(`SELECT head, due_through AS "dueThrough", wallets, granted, purchased, spent, expired FROM credit_books WHERE account = $1`, [account])
    if (!r) return null
    return {
      head: r.head,
      dueThrough: r.dueThrough,
      wallets: r.wallets,
      totals: { granted: r.granted, purchased: r.purchased, spent: r.spent, expired: r.expired },
    }
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
    await this.send(
      `INSERT INTO credit_books (account, head, due_through, wallets, granted, purchased, spent, expired)
        VALUES ($1, $2, $3, $4::json, $5, $6, $7, $8)
        ON CONFLICT (account) DO UPDATE SET head = excluded.head, due_through = excluded.due_through, wallets = excluded.wallets,
          granted = excluded.granted, purchased = excluded.purchased, spent = excluded.spent, expired = excluded.expired`,
      [account, book.head, book.dueThrough, JSON.stringify(book.wallets), t.granted, t.purchased, t.spent, t.expired],
    )
    if (lots.length === 0) return
    // New lots take the next places in the account's order, in the order given (the index on
    // (account, ord) answers the maximum); a stored lot keeps its place.
    await this.send(
      `
      INSERT INTO credit_lots (account, lot, ord, wallet, kind, at, expires_at, remaining, expired, open)
      SELECT $1, lot, (SELECT coalesce(max(ord), -1) FROM credit_lots WHERE account = $1) + n, wallet, kind, at, expires_at, remaining, expired, open
      FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::boolean[], $9::boolean[])
        WITH ORDINALITY AS u(lot, wallet, kind, at, expires_at, remaining, expired, open, n)
      ORDER BY n
      ON CONFLICT (account, lot) DO UPDATE SET wallet = excluded.wallet, kind = excluded.kind, at = excluded.at,
        expires_at = excluded.expires_at, remaining = excluded.remaining, expired = excluded.expired, open = excluded.open`,
      [
        account,
        lots.map((l) => l.lot),
        lots.map((l) => l.wallet),
        lots.map((l) => l.kind),
        lots.map((l) => l.at),
        lots.map((l) => l.expiresAt),
        lots.map((l) => l.remaining),
        lots.map((l) => l.expired),
        lots.map((l) => l.open),
      ],
    )
  }

  async invoices(account: string, keys?: readonly string[]): Promise<Invoice[]> {
    const rows =
      keys === undefined
        ? await this.q<{ invoice: Invoice }>('SELECT invoice FROM invoices WHERE account = $1 ORDER BY number', [account])
        : await this.q<{ invoice: Invoice }>('SELECT invoice FROM invoices WHERE account = $1 AND key = ANY($2::text[]) ORDER BY number', [account, keys])
    return rows.map((r) => r.invoice)
  }

  async insertInvoices(account: string, invoices: readonly Invoice[], finalizedAt: number): Promise<void> {
    if (invoices.length === 0) return
    // No ON CONFLICT: a second invoice with a stored key or number is refused, whoever wrote the first.
    await this.send(
      `
      INSERT INTO invoices (account, key, number, kind, issued_at, currency, total, invoice, finalized_at)
      SELECT $1, k, n, kind, at, cur, total, inv::json, $9
      FROM unnest($2::text[], $3::int[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::text[]) AS u(k, n, kind, at, cur, total, inv)`,
      [
        account,
        invoices.map((i) => i.key),
        invoices.map((i) => i.number),
        invoices.map((i) => i.kind),
        invoices.map((i) => i.issuedAt),
        invoices.map((i) => i.currency),
        invoices.map((i) => i.total),
        invoices.map((i) => JSON.stringify(i)),
        finalizedAt,
      ],
    )
  }

  async insertEmailGrant(account: string, g: EmailGrantRow): Promise<{ grant: EmailGrantRow; created: boolean }> {
    const inserted = await this.q<EmailGrantRow>(
      `INSERT INTO email_grants (account, id, month, emails, note, granted_at, pack, price, currency)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (account, id) DO NOTHING RETURNING ${GRANT_COLUMNS}`,
      [account, g.id, g.month, g.emails, g.note, g.grantedAt, g.pack, g.price, g.currency],
    )
    if (inserted[0]) return { grant: inserted[0], created: true }
    // A statement of its own: its snapshot sees the grant even when a concurrent transaction committed it after ours began.
    const stored = await this.q<EmailGrantRow>(`SELECT ${GRANT_COLUMNS} FROM email_grants WHERE account = $1 AND id = $2`, [account, g.id])
    if (!stored[0]) throw new Error(`email grant ${g.id} neither inserted nor stored`)
    return { grant: stored[0], created: false }
  }

  async emailGrants(account: string, fromDay: string, toDay: string): Promise<EmailGrantRow[]> {
    return this.q<EmailGrantRow>(
      `SELECT ${GRANT_COLUMNS} FROM email_grants WHERE account = $1 AND month >= $2 AND month < $3
      ORDER BY granted_at, id`,
      [account, fromDay, toDay],
    )
  }

  async usageEventPage(
    account: string,
    type: UsageEventRow['type'],
    fromDay: string,
    toDay: string,
    after: UsageEventCursor | null,
    limit: number,
  ): Promise<UsageEventRow[]> {
    return after === null
      ? this.q<UsageEventRow>(
          `SELECT ${EVIDENCE_USAGE} FROM usage_events WHERE account = $1 AND type = $2 AND day >= $3 AND day < $4
          ORDER BY day, id LIMIT $5`,
          [account, type, fromDay, toDay, limit],
        )
      : this.q<UsageEventRow>(
          `SELECT ${EVIDENCE_USAGE} FROM usage_events
          WHERE account = $1 AND type = $2 AND (day, id) > ($3::text, $4::text) AND day < $5
          ORDER BY day, id LIMIT $6`,
          [account, type, after.day, after.id, toDay, limit],
        )
  }

  async ping(): Promise<void> {
    await this.q('SELECT 1')
  }
}
