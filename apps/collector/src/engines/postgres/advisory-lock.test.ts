import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, pgSkipReason, type FreshDatabase } from '../../../../../test/pg/database.js'
import { withAdvisoryLock } from './advisory-lock.js'
import { openPgPool } from './connect.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(pgSkipReason())('withAdvisoryLock', () => {
  let db: FreshDatabase
  /** Two pools: two collectors on one database. */
  let a: pg.Pool
  let b: pg.Pool
  beforeAll(async () => {
    db = await freshDatabase()
    a = openPgPool({ url: db.url, poolSize: 4 })
    b = openPgPool({ url: db.url, poolSize: 4 })
    await a.query('CREATE TABLE runs (holder text NOT NULL)')
  })
  afterAll(async () => {
    await Promise.all([a?.end(), b?.end()])
    await db?.drop()
  })

  it('never lets two concurrent callers both run', async () => {
    for (let round = 0; round < 5; round++) {
      let inside = 0
      let most = 0
      const callers = Array.from({ length: 6 }, (_, i) =>
        withAdvisoryLock(i % 2 ? a : b, 'billing-run', async () => {
          inside++
          most = Math.max(most, inside)
          await sleep(30)
          inside--
          return i
        }),
      )
      const outcomes = await Promise.all(callers)
      expect(most).toBe(1)
      // Each caller either ran or was told it did not; at least one ran.
      expect(outcomes.filter((o) => o.ran).length).toBeGreaterThanOrEqual(1)
      expect(outcomes.filter((o) => !o.ran).length).toBeGreaterThanOrEqual(1)
    }
  })

  it('says it did not run while another holds the lock, and runs once it is free', async () => {
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    let entered!: () => void
    const inside = new Promise<void>((r) => (entered = r))
    const holder = withAdvisoryLock(a, 'billing-run', async () => {
      entered()
      await held
      return 'first'
    })
    await inside
    expect(await withAdvisoryLock(b, 'billing-run', async () => 'second')).toEqual({ ran: false })
    release()
    expect(await holder).toEqual({ ran: true, value: 'first' })
    expect(await withAdvisoryLock(b, 'billing-run', async () => 'third')).toEqual({ ran: true, value: 'third' })
  })

  it('lets different keys run side by side', async () => {
    let inside = 0
    let most = 0
    const run = async () => {
      inside++
      most = Math.max(most, inside)
      await sleep(50)
      inside--
    }
    const outcomes = await Promise.all([withAdvisoryLock(a, 'billing-run:acme', run), withAdvisoryLock(b, 'billing-run:globex', run)])
    expect(outcomes.map((o) => o.ran)).toEqual([true, true])
    expect(most).toBe(2)
  })

  it("commits the work done on the lock's connection, and rolls it back with the lock on an error", async () => {
    await withAdvisoryLock(a, 'billing-run', async (client) => {
      await client.query(`INSERT INTO runs VALUES ('committed')`)
    })
    await expect(
      withAdvisoryLock(a, 'billing-run', async (client) => {
        await client.query(`INSERT INTO runs VALUES ('rolled back')`)
        throw new Error('rating failed')
      }),
    ).rejects.toThrow('rating failed')
    expect((await a.query('SELECT holder FROM runs')).rows).toEqual([{ holder: 'committed' }])
    // The failed run let go of the lock.
    expect(await withAdvisoryLock(b, 'billing-run', async () => 'after')).toEqual({ ran: true, value: 'after' })
  })

  it('frees the lock when its holder dies', async () => {
    let entered!: (pid: number) => void
    const inside = new Promise<number>((r) => (entered = r))
    const dying = openPgPool({ url: db.url, poolSize: 1 })
    const holder = withAdvisoryLock(dying, 'billing-run', async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      entered(rows[0]!.pid)
      await client.query('SELECT pg_sleep(5)')
    }).catch((e: unknown) => e)
    const pid = await inside
    expect(await withAdvisoryLock(b, 'billing-run', async () => 'blocked')).toEqual({ ran: false })
    // The server ends the holder's session (as when its collector is killed): the lock goes with it.
    await a.query('SELECT pg_terminate_backend($1)', [pid])
    expect(await holder).toBeInstanceOf(Error)
    expect(await withAdvisoryLock(b, 'billing-run', async () => 'taken over')).toEqual({ ran: true, value: 'taken over' })
    await dying.end()
  })
})
