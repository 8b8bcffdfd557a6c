import { existsSync } from 'node:fs'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, pgSkipReason, type FreshDatabase } from './database.js'
import { findPostgresBinaries, startTestPostgres } from './server.js'

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client(url)
  await client.connect()
  try {
    return (await client.query<T>(text)).rows
  } finally {
    await client.end()
  }
}

describe.skipIf(pgSkipReason())('the test PostgreSQL', () => {
  let a: FreshDatabase
  let b: FreshDatabase
  beforeAll(async () => {
    ;[a, b] = await Promise.all([freshDatabase(), freshDatabase()])
  })
  afterAll(async () => {
    await Promise.all([a?.drop(), b?.drop()])
  })

  it('gives each caller a database of its own', async () => {
    expect(a.name).not.toBe(b.name)
    await query(a.url, 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)')
    expect(await query(a.url, 'SELECT x FROM t')).toEqual([{ x: 1 }])
    await expect(query(b.url, 'SELECT x FROM t')).rejects.toThrow(/does not exist/)
    expect(await query<{ db: string }>(b.url, 'SELECT current_database() AS db')).toEqual([{ db: b.name }])
  })

  it('drops a database even while a connection to it is open', async () => {
    const c = await freshDatabase()
    const client = new pg.Client(c.url)
    client.on('error', () => {})
    await client.connect()
    await c.drop()
    await expect(query(c.url, 'SELECT 1')).rejects.toThrow(/does not exist/)
    await client.end().catch(() => {})
  })
})

const binaries = findPostgresBinaries()
describe.skipIf('missing' in binaries && binaries.missing)('a throwaway cluster', () => {
  it('starts without durability, and on stop leaves neither a server nor its directory', async () => {
    const server = await startTestPostgres()
    const settings = await query<{ name: string; setting: string }>(
      server.url,
      `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes') ORDER BY name`,
    )
    expect(settings).toEqual([
      { name: 'fsync', setting: 'off' },
      { name: 'full_page_writes', setting: 'off' },
      { name: 'synchronous_commit', setting: 'off' },
    ])
    const [{ dir }] = (await query<{ dir: string }>(server.url, `SELECT current_setting('data_directory') AS dir`)) as [{ dir: string }]
    expect(existsSync(dir)).toBe(true)
    await server.stop()
    expect(existsSync(dir)).toBe(false)
    await expect(query(server.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/)
  })
})
