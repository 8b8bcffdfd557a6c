/**
 * The configuration in the database (docs/configuration.md): a database made by the collector
 * before versions upgrades in place with nothing lost, the file's edits merge with the admin's,
 * a version dated later takes effect then, and collectors read what others wrote.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import pino from 'pino'
import { ADMIN, NOW, setup, testConfig } from '../testkit.js'
import { SQLITE_MIGRATIONS } from '../engines/sqlite/engine.js'
import { openPgStore, openSqliteStore } from '../storage.js'
import { PG_MIGRATIONS } from '../engines/postgres/engine.js'
import pg from 'pg'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import { freshDatabase, pgSkipReason } from '../../../../test/pg/database.js'
import { manualClock } from '../domain/clock.js'
import { createApp } from '../app.js'
import { openConfig, refreshConfig, watchConfig } from './config.js'
import { createBillingRunner } from './billing-runner.js'
import type { Invoice } from '@tally/billing'

const dir = mkdtempSync(join(tmpdir(), 'tally-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * A database as the collector before versions made it: its migrations up to 0009 only, and the
 * changes stored by its admin routes with the statement it used (the last body per kind and id).
 */
function databaseBeforeVersions(file: string, changes: { kind: 'account' | 'container'; id: string; body: unknown }[]) {
  const migrations = join(dir, `migrations-${Math.random().toString(36).slice(2)}`)
  cpSync(SQLITE_MIGRATIONS, migrations, { recursive: true })
  const journalFile = join(migrations, 'meta/_journal.json')
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { idx: number }[] }
  journal.entries = journal.entries.filter((e) => e.idx <= 9)
  writeFileSync(journalFile, JSON.stringify(journal))
  const db = new Database(file)
  migrate(drizzle(db), { migrationsFolder: migrations })
  const save = db.prepare(`INSERT INTO config_changes (kind, id, seq, body, changed_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, body = excluded.body, changed_at = excluded.changed_at`)
  for (const [i, ch] of changes.entries()) save.run(ch.kind, ch.id, i + 1, JSON.stringify(ch.body), NOW)
  expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'config_versions'").get()).toEqual({ n: 0 })
  db.close()
}

const admin = (app: ReturnType<typeof setup>['app'], method: string, path: string, body?: unknown) =>
  app.request(path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })

describe('a database made before versions', () => {
  it('upgrades in place: its stored changes, replayed over the file as before, become the first versions, and stay stored', async () => {
    const file = join(dir, 'before-versions.db')
    const acme = testConfig().accounts.acme!
    const { containers: _, ...acmeFields } = acme
    databaseBeforeVersions(file, [
      { kind: 'container', id: 'ctr_shop', body: { ...acme.containers.ctr_shop, domains: ['moved.acme.test'], account: 'acme' } },
      // A PATCH that left `containers` alone stored a body without them: the file's stay.
      { kind: 'account', id: 'acme', body: { ...acmeFields, name: 'Acme B.V.', subscription: { ...acme.subscription, seats: 4 } } },
      { kind: 'container', id: 'ctr_new', body: { domains: ['new.acme.test'], campaigns: { cmp_new: {} }, account: 'acme' } },
    ])
    const store = openSqliteStore({ file })
    const config = await openConfig(store, testConfig())
    expect(config.account('acme')).toMatchObject({ name: 'Acme B.V.', subscription: { seats: 4 } })
    expect(config.container('ctr_shop')?.container.domains).toEqual(['moved.acme.test'])
    expect(config.container('ctr_new')).toMatchObject({ accountId: 'acme', container: { domains: ['new.acme.test'] } })
    expect(Object.keys(config.account('acme')!.containers)).toEqual(['ctr_shop', 'ctr_origins', 'ctr_new'])
    expect(config.account('dormant')).toEqual(testConfig().accounts.dormant)
    const history = await store.configHistory('account', 'acme', 10)
    expect(history.map((h) => [h.version, h.actor])).toEqual([[1, 'upgrade']])
    // The old rows are kept as they were.
    expect(store.db.prepare('SELECT count(*) AS n FROM config_changes').get()).toEqual({ n: 3 })
    await store.close()

    // The next start reads the same and writes nothing.
    const again = openSqliteStore({ file })
    const head = await again.configHead()
    const reread = await openConfig(again, testConfig())
    expect(reread.current().accounts).toEqual(config.current().accounts)
    expect(await again.configHead()).toBe(head)
    await again.close()
  })

  it('skips, with a warning, a stored change that no longer applies (a start in year 0999)', async () => {
    const file = join(dir, 'year.db')
    const acme = testConfig().accounts.acme!
    databaseBeforeVersions(file, [{ kind: 'account', id: 'acme', body: { ...acme, subscription: { ...acme.subscription, start: '0999-01-01' } } }])
    const warnings: unknown[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) })
    const store = openSqliteStore({ file })
    const config = await openConfig(store, testConfig(), { logger })
    expect(config.account('acme')?.subscription.start).toBe('2026-07-12')
    expect(warnings).toMatchObject([{ kind: 'account', id: 'acme', reason: expect.stringContaining('subscription.start: expected a year from 1970 to 9998') }])
    await store.close()
  })
})

describe.skipIf(pgSkipReason())('a PostgreSQL database made before versions', () => {
  it('upgrades in place when the first collector starts, and the others read the same versions', async () => {
    const db = await freshDatabase()
    try {
      // The schema of migrations 0000-0003 and the change stored with the statement of that collector.
      const migrations = join(dir, 'pg-migrations')
      cpSync(PG_MIGRATIONS, migrations, { recursive: true })
      const journalFile = join(migrations, 'meta/_journal.json')
      const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { idx: number }[] }
      journal.entries = journal.entries.filter((e) => e.idx <= 3)
      writeFileSync(journalFile, JSON.stringify(journal))
      const client = new pg.Client({ connectionString: db.url })
      await client.connect()
      await migratePg(drizzlePg({ client }), { migrationsFolder: migrations })
      const acme = testConfig().accounts.acme!
      await client.query(
        `INSERT INTO config_changes (kind, id, seq, body, changed_at)
        VALUES ($1, $2, (SELECT coalesce(max(seq), 0) + 1 FROM config_changes), $3::json, $4)
        ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, body = excluded.body, changed_at = excluded.changed_at`,
        ['container', 'ctr_shop', JSON.stringify({ ...acme.containers.ctr_shop, domains: ['moved.acme.test'], account: 'acme' }), NOW],
      )
      expect((await client.query("SELECT to_regclass('config_versions') AS t")).rows).toEqual([{ t: null }])
      await client.end()

      const stores = await Promise.all([1, 2].map(() => openPgStore({ url: db.url, poolSize: 2 })))
      const configs = await Promise.all(stores.map((store) => openConfig(store, testConfig())))
      for (const config of configs) expect(config.container('ctr_shop')?.container.domains).toEqual(['moved.acme.test'])
      expect(configs[1]!.current().accounts).toEqual(configs[0]!.current().accounts)
      expect((await stores[0]!.configHistory('account', 'acme', 10)).map((h) => h.actor)).toEqual(['upgrade'])
      await Promise.all(stores.map((s) => s.close()))
    } finally {
      await db.drop()
    }
  })
})

describe('the config file and the database', () => {
  it('seeds an empty database from the file at the first start, then writes nothing while the file is unchanged', async () => {
    const store = openSqliteStore({ file: ':memory:' })
    const config = await openConfig(store, testConfig())
    expect(config.current().accounts).toEqual(testConfig().accounts)
    expect(config.current().plans).toEqual(testConfig().plans)
    const head = await store.configHead()
    expect(head).toBe(3)
    await openConfig(store, testConfig())
    expect(await store.configHead()).toBe(head)
    await store.close()
  })

  it('applies what the file changed since it was last applied as one version, keeping what the admin API changed elsewhere', async () => {
    const store = openSqliteStore({ file: ':memory:' })
    const clock = manualClock(NOW)
    const config = await openConfig(store, testConfig(), { now: clock.now })
    const app = createApp({ store, config, clock, adminToken: ADMIN })
    expect((await admin(app, 'PATCH', '/v1/admin/accounts/acme', { subscription: { seats: 7 }, containers: { ctr_origins: null } })).status).toBe(200)

    const edited = testConfig()
    edited.accounts.acme!.name = 'Acme from the file'
    edited.accounts.acme!.containers.ctr_shop!.domains = ['shop.acme.test']
    const next = await openConfig(store, edited, { now: clock.now })
    const acme = next.account('acme')!
    expect(acme.name).toBe('Acme from the file')
    expect(acme.containers.ctr_shop?.domains).toEqual(['shop.acme.test'])
    expect(acme.subscription.seats).toBe(7)
    expect(acme.containers.ctr_origins).toBeUndefined()
    const history = await store.configHistory('account', 'acme', 10)
    expect(history.map((h) => [h.version, h.actor])).toEqual([
      [3, 'config file'],
      [2, 'admin'],
      [1, 'config file'],
    ])
    expect(next.account('dormant')).toEqual(testConfig().accounts.dormant)
    await store.close()
  })

  it('refuses a file whose changes do not fit the database, naming the path, and writes nothing', async () => {
    const store = openSqliteStore({ file: ':memory:' })
    await openConfig(store, testConfig())
    const head = await store.configHead()
    const edited = testConfig()
    edited.accounts.dormant!.keys.read = 'rk_acme_read'
    await expect(openConfig(store, edited)).rejects.toThrow(/accounts.dormant.keys.read: key already used by account "acme"/)
    expect(await store.configHead()).toBe(head)
    await store.close()
  })
})

describe('versions dated later', () => {
  it('keeps the version in force until `at`, then the new one, and lists both', async () => {
    const store = openSqliteStore({ file: ':memory:' })
    const clock = manualClock(NOW)
    const config = await openConfig(store, testConfig(), { now: clock.now })
    const app = createApp({ store, config, clock, adminToken: ADMIN })
    const at = new Date(NOW + 86_400_000).toISOString()
    const res = await admin(app, 'PATCH', `/v1/admin/accounts/acme?at=${at}`, { subscription: { seats: 9 } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ version: 2, effectiveAt: at, account: { subscription: { seats: 9 } } })
    expect(config.account('acme')?.subscription.seats).toBe(1)
    expect(config.version('account', 'acme')?.version).toBe(1)
    // A change dated before the pending one is refused: versions take effect in the order written.
    const early = await admin(app, 'PATCH', '/v1/admin/accounts/acme', { name: 'now' })
    expect(early.status).toBe(409)
    clock.advance(86_400_000)
    expect(config.account('acme')?.subscription.seats).toBe(9)
    expect(config.version('account', 'acme')?.version).toBe(2)
    expect((await admin(app, 'PATCH', '/v1/admin/accounts/acme', { name: 'now' })).status).toBe(200)
    await store.close()
  })

  it("refuses an `at` in the past or outside the billing calendar's years with 400 naming it", async () => {
    const { app } = setup()
    for (const at of [new Date(NOW - 1000).toISOString(), '0999-01-01T00:00:00Z', 'tomorrow']) {
      const res = await admin(app, 'PATCH', `/v1/admin/accounts/acme?at=${at}`, { name: 'x' })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringMatching(/^at: /) } })
    }
  })
})

describe('two collectors on one database', () => {
  it('reads on the timer what the other wrote, and decides a write again on the newest versions', async () => {
    const file = join(dir, 'two.db')
    const storeA = openSqliteStore({ file })
    const a = await openConfig(storeA, testConfig())
    const storeB = openSqliteStore({ file })
    const b = await openConfig(storeB, testConfig())
    const appA = createApp({ store: storeA, config: a, adminToken: ADMIN })
    const appB = createApp({ store: storeB, config: b, adminToken: ADMIN })
    expect((await admin(appA, 'PATCH', '/v1/admin/accounts/acme', { keys: { read: 'rk_acme_rotated' } })).status).toBe(200)
    expect(b.accountByKey('rk_acme_read')?.id).toBe('acme')
    // B has not read A's version yet: its write is decided again on it, and keeps the rotated key.
    expect((await admin(appB, 'PATCH', '/v1/admin/accounts/acme', { name: 'B' })).status).toBe(200)
    expect(b.accountByKey('rk_acme_read')).toBeUndefined()
    expect(b.account('acme')).toMatchObject({ name: 'B', keys: { read: 'rk_acme_rotated' } })

    const watcher = watchConfig({ store: storeA, config: a, logger: pino({ level: 'silent' }), everyMs: 20 })
    const deadline = Date.now() + 2_000
    while (a.account('acme')?.name !== 'B' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    await watcher.stop()
    expect(a.account('acme')?.name).toBe('B')
    expect(await refreshConfig(storeA, a)).toBe(0)
    await storeA.close()
    await storeB.close()
  })
})

describe('the billing run and versions dated later', () => {
  it('prices each invoice by the versions in force when it is issued, and says which', async () => {
    const store = openSqliteStore({ file: ':memory:' })
    const clock = manualClock(NOW)
    const file = testConfig({ plans: { growth: { currency: 'EUR', basePrice: 4900, seatPrice: 1000 } } })
    const config = await openConfig(store, file, { now: clock.now })
    const app = createApp({ store, config, clock, adminToken: ADMIN })
    // Decided on 2026-07-20, in force from the second period (2026-08-12, Amsterdam midnight).
    const at = '2026-08-12T00:00:00+02:00'
    const res = await admin(app, 'PATCH', `/v1/admin/accounts/acme?at=${encodeURIComponent(at)}`, { subscription: { seats: 3 } })
    expect(res.status).toBe(200)
    clock.set(Date.UTC(2026, 8, 13))
    const runner = createBillingRunner({ store, config, clock, logger: pino({ level: 'silent' }) })
    const [run] = await runner.run(clock.now(), 'acme')
    expect(run?.error).toBeUndefined()
    const invoices = (await store.billingData('acme')).finalized.filter((i) => i.kind === 'recurring')
    const seats = (i: Invoice) => i.lines.filter((l) => l.kind === 'seats').map((l) => l.quantity)
    expect(invoices.map((i) => [i.key, i.issuedDate, i.pricedBy, seats(i)])).toEqual([
      ['recurring:0', '2026-07-12', { account: 1, plan: 1 }, [1]],
      ['recurring:1', '2026-08-12', { account: 2, plan: 1 }, [3]],
      ['recurring:2', '2026-09-12', { account: 2, plan: 1 }, [3]],
    ])
    await store.close()
  })
})
