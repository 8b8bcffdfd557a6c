import { createServer, type Server, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminUrl, freshDatabase, pgSkipReason, withDatabase, type FreshDatabase } from '../../../../../test/pg/database.js'
import { findPostgresBinaries, freePort, startTestPostgres } from '../../../../../test/pg/server.js'
import { classifyPgError, isRetryableTransaction, openPgPool, readiness, type PgErrorKind } from './connect.js'

/** The rejection of `p`; fails the test when `p` resolves. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected the database to refuse')
}

/** The codes and messages of an error and of those it wraps (drizzle puts the driver's in `cause`). */
function shownBy(e: unknown): string[] {
  const out: string[] = []
  for (let x = e as { code?: unknown; message?: unknown; cause?: unknown } | undefined; x && typeof x === 'object'; x = x.cause as typeof x) {
    if (typeof x.code === 'string') out.push(x.code)
    if (typeof x.message === 'string') out.push(x.message)
  }
  return out
}

/** A TCP server that accepts connections and never says a word: a hung or black-holed database. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    url: `postgres://tally@127.0.0.1:${port}/tally`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

describe('classifyPgError, on errors as the drivers shape them', () => {
  const code = (c: string) => Object.assign(new Error(`sqlstate ${c}`), { code: c })
  const cases: { name: string; error: unknown; kind: PgErrorKind }[] = [
    { name: 'disk full (53100)', error: code('53100'), kind: 'unavailable' },
    { name: 'out of memory (53200)', error: code('53200'), kind: 'unavailable' },
    { name: 'connection failure (08006)', error: code('08006'), kind: 'unavailable' },
    { name: 'cannot connect now, starting up (57P03)', error: code('57P03'), kind: 'unavailable' },
    { name: 'crash shutdown (57P02)', error: code('57P02'), kind: 'unavailable' },
    { name: 'I/O error (58030)', error: code('58030'), kind: 'unavailable' },
    // Five capitals, like an SQLSTATE: a socket the server closed while a transaction wrote to it.
    {
      name: 'a write to a closed socket (EPIPE)',
      error: Object.assign(new Error('write EPIPE'), { errno: -32, code: 'EPIPE', syscall: 'write' }),
      kind: 'unavailable',
    },
    { name: 'a reset connection (ECONNRESET)', error: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), kind: 'unavailable' },
    { name: 'an unknown host', error: Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' }), kind: 'unavailable' },
    { name: 'every address refused (AggregateError)', error: new AggregateError([code('ECONNREFUSED'), code('ECONNREFUSED')], 'connect'), kind: 'unavailable' },
    { name: 'a pool already ended (drain)', error: new Error('Cannot use a pool after calling end on the pool'), kind: 'unavailable' },
    {
      name: 'a terminated connection, wrapped twice',
      error: new Error('outer', { cause: new Error('Failed query', { cause: new Error('Connection terminated unexpectedly') }) }),
      kind: 'unavailable',
    },
    { name: 'a foreign-key violation (23503)', error: code('23503'), kind: 'bug' },
    { name: 'an unknown database (3D000)', error: code('3D000'), kind: 'bug' },
    { name: 'a wrong password (28P01)', error: code('28P01'), kind: 'bug' },
    { name: "a Node error that is not the network's", error: code('ERR_INVALID_ARG_TYPE'), kind: 'bug' },
    { name: 'a TypeError', error: new TypeError("Cannot read properties of undefined (reading 'rows')"), kind: 'bug' },
    { name: 'a thrown string', error: 'Connection terminated', kind: 'bug' },
    { name: 'undefined', error: undefined, kind: 'bug' },
  ]
  it.each(cases)('calls $name $kind', ({ error, kind }) => {
    expect(classifyPgError(error)).toBe(kind)
  })
})

describe('openPgPool', () => {
  it('refuses a URL that is not PostgreSQL', () => {
    expect(() => openPgPool({ url: 'mysql://db/tally' })).toThrow(/not a PostgreSQL URL/)
    expect(() => openPgPool({ url: 'sqlite:./data/tally.db' })).toThrow(/not a PostgreSQL URL/)
  })
})

describe.skipIf(pgSkipReason())('the PostgreSQL connection, against a real server', () => {
  let db: FreshDatabase
  let pool: pg.Pool
  beforeAll(async () => {
    db = await freshDatabase()
    pool = openPgPool({ url: db.url, poolSize: 4, statementTimeoutMs: 300 })
    await pool.query(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO items VALUES (1, 'one'), (2, 'two')`)
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  /** Two sessions of their own, for the cases that need two transactions to meet. */
  async function twoClients(): Promise<[pg.Client, pg.Client]> {
    const clients = [new pg.Client(db.url), new pg.Client(db.url)] as [pg.Client, pg.Client]
    await Promise.all(clients.map((c) => c.connect()))
    return clients
  }

  it('names itself tally and carries the timeouts', async () => {
    const { rows } = await pool.query(`SELECT current_setting('application_name') AS app,
      current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle`)
    expect(rows[0]).toEqual({ app: 'tally', statement: '300ms', idle: '600ms' })
    const defaults = openPgPool({ url: db.url, poolSize: 1 })
    try {
      const { rows } = await defaults.query(`SELECT current_setting('statement_timeout') AS statement`)
      expect(rows[0]).toEqual({ statement: '10s' })
    } finally {
      await defaults.end()
    }
  })

  /** `shows`: the SQLSTATE, Node error code or message the server's refusal arrived with. */
  const cases: { name: string; kind: PgErrorKind; shows: string; retry?: boolean; provoke: () => Promise<unknown> }[] = [
    { name: 'a syntax error', kind: 'bug', shows: '42601', provoke: () => failure(pool.query('SELEC 1')) },
    { name: 'an unknown table', kind: 'bug', shows: '42P01', provoke: () => failure(pool.query('SELECT * FROM nowhere')) },
    {
      name: 'a unique violation with no ON CONFLICT',
      kind: 'bug',
      shows: '23505',
      provoke: () => failure(pool.query(`INSERT INTO items VALUES (1, 'again')`)),
    },
    { name: 'a not-null violation', kind: 'bug', shows: '23502', provoke: () => failure(pool.query('INSERT INTO items VALUES (3, NULL)')) },
    { name: 'a value of the wrong type', kind: 'bug', shows: '22P02', provoke: () => failure(pool.query(`SELECT 'x'::int`)) },
    { name: 'a division by zero', kind: 'bug', shows: '22012', provoke: () => failure(pool.query('SELECT 1 / 0')) },
    {
      name: 'a unique violation wrapped by drizzle',
      kind: 'bug',
      shows: '23505',
      provoke: () => failure(drizzle(pool).execute(sql`INSERT INTO items VALUES (2, 'again')`)),
    },
    { name: 'a statement timeout (57014)', kind: 'unavailable', shows: '57014', provoke: () => failure(pool.query('SELECT pg_sleep(2)')) },
    {
      name: 'a statement timeout wrapped by drizzle',
      kind: 'unavailable',
      shows: '57014',
      provoke: () => failure(drizzle(pool).execute(sql`SELECT pg_sleep(2)`)),
    },
    {
      name: 'a write in a read-only transaction (25006)',
      kind: 'unavailable',
      shows: '25006',
      provoke: async () => {
        const client = await pool.connect()
        try {
          await client.query('SET default_transaction_read_only = on')
          return await failure(client.query(`INSERT INTO items VALUES (9, 'nine')`))
        } finally {
          client.release(new Error('session settings changed: do not reuse'))
        }
      },
    },
    {
      name: 'a connection ended by an administrator (57P01)',
      kind: 'unavailable',
      shows: '57P01',
      provoke: async () => {
        const [victim, admin] = await twoClients()
        victim.on('error', () => {})
        const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
        const running = failure(victim.query('SELECT pg_sleep(0.25)'))
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid])
        await admin.end()
        return running
      },
    },
    {
      name: 'a serialization failure (40001)',
      kind: 'unavailable',
      shows: '40001',
      retry: true,
      provoke: async () => {
        const [a, b] = await twoClients()
        try {
          await a.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
          await a.query('SELECT name FROM items WHERE id = 1')
          await b.query(`UPDATE items SET name = 'b' WHERE id = 1`)
          return await failure(a.query(`UPDATE items SET name = 'a' WHERE id = 1`))
        } finally {
          await Promise.all([a.end(), b.end()])
        }
      },
    },
    {
      name: 'a deadlock (40P01)',
      kind: 'unavailable',
      shows: '40P01',
      retry: true,
      provoke: async () => {
        const [a, b] = await twoClients()
        try {
          for (const c of [a, b]) await c.query(`SET deadlock_timeout = '20ms'; BEGIN`)
          await a.query(`UPDATE items SET name = 'a' WHERE id = 1`)
          await b.query(`UPDATE items SET name = 'b' WHERE id = 2`)
          const settled = await Promise.allSettled([a.query(`UPDATE items SET name = 'a' WHERE id = 2`), b.query(`UPDATE items SET name = 'b' WHERE id = 1`)])
          const failed = settled.find((s) => s.status === 'rejected')
          if (!failed) throw new Error('expected a deadlock')
          return failed.reason
        } finally {
          await Promise.all([a.end(), b.end()])
        }
      },
    },
    {
      name: 'too many connections (53300)',
      kind: 'unavailable',
      shows: '53300',
      provoke: async () => {
        // Superusers are exempt from connection limits: a role of its own, allowed one.
        const role = `t_limited_${randomBytes(4).toString('hex')}`
        await pool.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`)
        const url = new URL(db.url)
        url.username = role
        const first = new pg.Client(url.toString())
        await first.connect()
        try {
          return await failure(new pg.Client(url.toString()).connect())
        } finally {
          await first.end()
          await pool.query(`DROP ROLE ${role}`)
        }
      },
    },
    {
      name: 'a refused connection',
      kind: 'unavailable',
      shows: 'ECONNREFUSED',
      provoke: async () => {
        const closed = openPgPool({ url: `postgres://tally@127.0.0.1:${await freePort()}/tally`, connectTimeoutMs: 1_000 })
        try {
          return await failure(closed.query('SELECT 1'))
        } finally {
          await closed.end()
        }
      },
    },
    {
      name: 'a connect timeout (a server that never answers)',
      kind: 'unavailable',
      shows: 'Connection terminated due to connection timeout',
      provoke: async () => {
        const silent = await silentServer()
        const hung = openPgPool({ url: silent.url, connectTimeoutMs: 200 })
        try {
          return await failure(hung.query('SELECT 1'))
        } finally {
          await hung.end()
          await silent.close()
        }
      },
    },
    {
      name: 'a database that does not exist',
      kind: 'bug',
      shows: '3D000',
      provoke: async () => {
        const wrong = openPgPool({ url: withDatabase(adminUrl(), 'no_such_database'), poolSize: 1 })
        try {
          return await failure(wrong.query('SELECT 1'))
        } finally {
          await wrong.end()
        }
      },
    },
  ]

  it.each(cases)('calls $name $kind', async ({ kind, shows, retry, provoke }) => {
    const error = await provoke()
    expect(shownBy(error)).toContain(shows)
    expect(classifyPgError(error), String(error)).toBe(kind)
    expect(isRetryableTransaction(error)).toBe(retry ?? false)
  })

  it('is ready when the database answers and writes', async () => {
    expect(await readiness(pool)).toEqual({ ok: true })
  })

  it('is not ready when the database is read-only', async () => {
    const standby = await freshDatabase()
    await pool.query(`ALTER DATABASE ${standby.name} SET default_transaction_read_only = on`)
    const ro = openPgPool({ url: standby.url, poolSize: 1 })
    try {
      expect(await readiness(ro)).toEqual({ ok: false, reason: 'the database is read-only' })
    } finally {
      await ro.end()
      await standby.drop()
    }
  })

  it('is not ready, within the bound, when the pool has no free connection', async () => {
    const one = openPgPool({ url: db.url, poolSize: 1, statementTimeoutMs: 5_000 })
    const busy = one.query('SELECT pg_sleep(1)')
    try {
      const t = performance.now()
      const r = await readiness(one, 200)
      expect(r).toEqual({ ok: false, reason: 'the database did not answer within 200 ms' })
      expect(performance.now() - t).toBeLessThan(600)
    } finally {
      await busy
      await one.end()
    }
  })

  it('is not ready, within the bound, when the server never answers', async () => {
    const silent = await silentServer()
    const hung = openPgPool({ url: silent.url, connectTimeoutMs: 5_000 })
    try {
      const t = performance.now()
      expect(await readiness(hung, 300)).toEqual({ ok: false, reason: 'the database did not answer within 300 ms' })
      expect(performance.now() - t).toBeLessThan(800)
    } finally {
      await silent.close()
      await hung.end()
    }
  })
})

const binaries = findPostgresBinaries()
describe.skipIf('missing' in binaries && binaries.missing)('a PostgreSQL server stopped under a collector', () => {
  it('fails the running query and the next ones as unavailable, and the process lives on', async () => {
    const server = await startTestPostgres({ binaries: binaries as Exclude<typeof binaries, { missing: string }> })
    const lost: Error[] = []
    const pool = openPgPool({ url: server.url, poolSize: 3, statementTimeoutMs: 10_000, onConnectionError: (e) => lost.push(e) })
    try {
      // One connection running a query, one idle in the pool, one checked out between two
      // queries (as in a transaction): all must go without an uncaught error.
      const three = [await pool.connect(), await pool.connect(), await pool.connect()]
      for (const c of three.slice(1)) c.release()
      const held = three[0]!
      const running = failure(pool.query('SELECT pg_sleep(10)'))
      await new Promise((r) => setTimeout(r, 100))
      await server.stop()
      const midQuery = await running
      // A fast shutdown ends every session with 57P01 before the server goes.
      expect(shownBy(midQuery)).toContain('57P01')
      expect(classifyPgError(midQuery), String(midQuery)).toBe('unavailable')
      const after = await failure(pool.query('SELECT 1'))
      expect(shownBy(after)).toContain('ECONNREFUSED')
      expect(classifyPgError(after), String(after)).toBe('unavailable')
      const r = await readiness(pool)
      expect(r.ok).toBe(false)
      await failure(held.query('SELECT 1'))
      held.release(new Error('lost'))
      // At least the idle and the held connection are reported (the one whose query failed may
      // be too, when its socket closes), each as unavailable.
      expect(lost.length).toBeGreaterThanOrEqual(2)
      expect(new Set(lost.map(classifyPgError))).toEqual(new Set(['unavailable']))
    } finally {
      await pool.end()
      await server.stop()
    }
  })
})
