import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, pgSkipReason, type FreshDatabase } from './database.js'
import { accountKeyViolations } from './schema-keys.js'

describe.skipIf(pgSkipReason())('accountKeyViolations', () => {
  let db: FreshDatabase
  let pool: pg.Pool
  beforeAll(async () => {
    db = await freshDatabase()
    pool = new pg.Pool({ connectionString: db.url, max: 2 })
    // The database is dropped WITH (FORCE) at the end: an idle client may hear the termination.
    pool.on('error', () => {})
    await pool.query(`
      -- Keeps the rule: account first in the primary key and in every unique key.
      CREATE TABLE impressions (account text NOT NULL, container text NOT NULL, session text NOT NULL,
        campaign text NOT NULL, event_id text NOT NULL,
        PRIMARY KEY (account, container, session, campaign), UNIQUE (account, event_id));
      CREATE UNIQUE INDEX impressions_by_event ON impressions (account, container, event_id);
      -- Breaks it: keyed by container alone, as the SQLite schema is today.
      CREATE TABLE events (container text NOT NULL, id text NOT NULL, PRIMARY KEY (container, id));
      -- Global by design: allow-listed.
      CREATE TABLE config_changes (kind text NOT NULL, id text NOT NULL, PRIMARY KEY (kind, id));
      CREATE VIEW recent_events AS SELECT * FROM events;
      CREATE SCHEMA elsewhere;
      CREATE TABLE elsewhere.journal (id serial PRIMARY KEY);`)
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  it('passes the good table and reports the bad one', async () => {
    expect(await accountKeyViolations(pool, { globalTables: ['config_changes'] })).toEqual([
      { table: 'events', problem: 'has no account column' },
      {
        table: 'events',
        problem: 'primary key events_pkey does not start with account: CREATE UNIQUE INDEX events_pkey ON public.events USING btree (container, id)',
      },
    ])
  })

  it('reports a global table that is not allow-listed', async () => {
    const tables = (await accountKeyViolations(pool)).map((v) => v.table)
    expect(new Set(tables)).toEqual(new Set(['config_changes', 'events']))
  })

  const variants: { name: string; ddl: string; problems: string[] }[] = [
    {
      name: 'an account that may be NULL',
      ddl: 'CREATE TABLE t (account text, minute bigint NOT NULL, UNIQUE (account, minute))',
      problems: ['account may be NULL'],
    },
    {
      name: 'account in the key, but not first',
      ddl: 'CREATE TABLE t (container text NOT NULL, account text NOT NULL, id text NOT NULL, PRIMARY KEY (container, account, id))',
      problems: ['primary key t_pkey does not start with account: CREATE UNIQUE INDEX t_pkey ON variant.t USING btree (container, account, id)'],
    },
    {
      name: 'a unique index made apart from the table',
      ddl: 'CREATE TABLE t (account text NOT NULL, number int NOT NULL, PRIMARY KEY (account, number)); CREATE UNIQUE INDEX t_number ON t (number)',
      problems: ['unique key t_number does not start with account: CREATE UNIQUE INDEX t_number ON variant.t USING btree (number)'],
    },
    {
      name: 'a unique key on an expression',
      ddl: 'CREATE TABLE t (account text NOT NULL, email text NOT NULL); CREATE UNIQUE INDEX t_email ON t (lower(email), account)',
      problems: ['unique key t_email does not start with account: CREATE UNIQUE INDEX t_email ON variant.t USING btree (lower(email), account)'],
    },
    {
      name: 'a serial primary key (an append-only log)',
      ddl: 'CREATE TABLE t (seq bigserial PRIMARY KEY, account text NOT NULL, UNIQUE (account, seq))',
      problems: ['primary key t_pkey does not start with account: CREATE UNIQUE INDEX t_pkey ON variant.t USING btree (seq)'],
    },
    {
      name: 'a partitioned table, checked once, not per partition',
      ddl: `CREATE TABLE t (account text NOT NULL, day text NOT NULL, PRIMARY KEY (day, account)) PARTITION BY RANGE (day);
        CREATE TABLE t_2026 PARTITION OF t FOR VALUES FROM ('2026') TO ('2027')`,
      problems: ['primary key t_pkey does not start with account: CREATE UNIQUE INDEX t_pkey ON ONLY variant.t USING btree (day, account)'],
    },
    {
      name: 'a non-unique index that does not lead with account (not a key: allowed)',
      ddl: 'CREATE TABLE t (account text NOT NULL, day text NOT NULL, PRIMARY KEY (account, day)); CREATE INDEX t_day ON t (day)',
      problems: [],
    },
  ]
  it.each(variants)('on $name, says so', async ({ ddl, problems }) => {
    const client = await pool.connect()
    try {
      // Each variant in a schema of its own, dropped afterwards.
      await client.query('CREATE SCHEMA variant; SET search_path = variant')
      await client.query(ddl)
      const found = await accountKeyViolations(client, { schema: 'variant' })
      expect(found.map((v) => v.problem)).toEqual(problems)
    } finally {
      await client.query('DROP SCHEMA variant CASCADE; RESET search_path')
      client.release()
    }
  })
})
