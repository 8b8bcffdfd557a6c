/**
 * The services facade offers every repository read by its name, in process and on the SQLite
 * storage thread, with no line of its own per read (docs/architecture.md, "Adding a storage
 * operation"); a repository write is never offered: writes run in a service's transaction.
 */
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ACCESS, READS, type Repository } from '../engines/repository.js'
import { openSqliteStore } from '../storage.js'
import type { Store } from './store.js'

/** The storage thread runs the built modules (a worker cannot load TypeScript): `npm test` builds first. */
const BUILT_STORAGE = new URL('../../dist/storage.js', import.meta.url)

const OPENERS: [string, () => Promise<Store>][] = [
  ['in process', async () => openSqliteStore({ file: ':memory:' })],
  [
    'on the storage thread',
    async () => {
      if (!existsSync(BUILT_STORAGE)) throw new Error(`${BUILT_STORAGE.pathname} is missing: run \`npm run build\` first (npm test does)`)
      const { openWorkerStore } = (await import(BUILT_STORAGE.href)) as typeof import('../storage.js')
      return openWorkerStore({ file: ':memory:' })
    },
  ],
]

describe.each(OPENERS)('the store %s', (_name, open) => {
  it('offers every read of the repository by its name, answered by the engine', async () => {
    const store = await open()
    try {
      expect(READS.length).toBeGreaterThan(20)
      for (const name of READS) expect(typeof store[name], name).toBe('function')
      // Reads that had no line in the facade: they reach the database all the same.
      expect(await store.invoices('acme')).toEqual([])
      expect(await store.ledgerHead('acme')).toBe(0)
      expect(await store.configHead()).toBe(0)
    } finally {
      await store.close()
    }
  })

  it('offers no repository write that is not a service of its own', async () => {
    const store = await open()
    try {
      const writes = (Object.keys(ACCESS) as (keyof Repository)[]).filter((k) => ACCESS[k] === 'write')
      expect(writes).toContain('appendLedger')
      const offered = writes.filter((w) => w in store)
      // Services named like the one write each runs in its own transaction.
      expect(offered).toEqual(['pruneRejections', 'openPortalLink', 'deleteWebhookEndpoint'])
    } finally {
      await store.close()
    }
  })
})
