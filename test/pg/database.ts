/**
 * Inside a test file: the run's PostgreSQL (see ./global-setup.ts) and a database of the file's
 * own, so files running side by side never see each other's rows.
 *
 * @example
 *   const skip = pgSkipReason()
 *   describe.skipIf(skip)('the PostgreSQL store', () => {
 *     let db: FreshDatabase
 *     beforeAll(async () => { db = await freshDatabase() })
 *     afterAll(() => db?.drop())
 *   })
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'

export interface FreshDatabase {
  /** A URL to the new, empty database. */
  url: string
  name: string
  /** Drops it, closing whatever connections are still open to it. */
  drop(): Promise<void>
}

/** Why the PostgreSQL suites skip here, or `false` when they run. */
export function pgSkipReason(): string | false {
  const { url, note } = inject('postgres')
  return url ? false : `no PostgreSQL: ${note}`
}

/** The run's admin URL; throws when the suites should have been skipped. */
export function adminUrl(): string {
  const { url, note } = inject('postgres')
  if (!url) throw new Error(`no PostgreSQL for this run: ${note}`)
  return url
}

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** Creates `t_<random>` on the run's server. */
export async function freshDatabase(): Promise<FreshDatabase> {
  const admin = adminUrl()
  const name = `t_${randomBytes(6).toString('hex')}`
  await adminQuery(admin, `CREATE DATABASE ${name}`)
  return { url: withDatabase(admin, name), name, drop: () => adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}
