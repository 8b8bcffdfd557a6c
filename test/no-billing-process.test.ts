/**
 * `tally serve --no-billing` (docs/deployment.md, "A collector that only ingests"), as real
 * processes on copies of one database: the collector without the flag issues the ended periods'
 * invoices at start, the one with it serves beacons and issues none, and `tally bill` then issues
 * them on its database.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { copyFileSync, rmSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BROWSER_UA, CLI, freePort, requireBuilt, startCollector, writeConfig } from './e2e-process.js'

const env = writeConfig(['shop.acme.test'], { c1: {} })
afterAll(() => rmSync(env.dir, { recursive: true, force: true }))

const invoices = async (url: string) =>
  (
    (await (await fetch(`${url}/v1/invoices`, { headers: { authorization: 'Bearer rk_process_test' } })).json()) as {
      invoices: { number: number; key: string }[]
    }
  ).invoices

describe('a collector that only ingests', () => {
  it('issues no invoice while the same collector without --no-billing does, and tally bill issues them', async () => {
    requireBuilt()
    // Migrated once, then copied: both collectors start on the same database.
    await promisify(execFile)(process.execPath, [CLI, 'migrate', '--db', env.db])
    const only = join(env.dir, 'only.db')
    copyFileSync(env.db, only)

    const billing = await startCollector({ config: env.config, db: env.db, port: await freePort() })
    const began = performance.now()
    let issued: { number: number; key: string }[] = []
    try {
      for (let i = 0; i < 200 && issued.length === 0; i++) {
        issued = await invoices(billing.url)
        if (issued.length === 0) await new Promise((r) => setTimeout(r, 50))
      }
    } finally {
      await billing.stop()
    }
    // The account started on 2026-01-01, monthly: every ended month has its invoice.
    expect(issued.length).toBeGreaterThan(0)
    const took = performance.now() - began

    const ingesting = await startCollector({ config: env.config, db: only, port: await freePort(), args: ['--no-billing'] })
    try {
      const res = await fetch(`${ingesting.url}/v1/containers/ctr_test/events`, {
        method: 'POST',
        headers: { origin: 'https://shop.acme.test', 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body: JSON.stringify({
          v: 1,
          sentAt: Date.now(),
          sdk: 'tally-js/test',
          events: [{ id: 'e1', type: 'impression', session: 's1', campaign: 'c1', ts: Date.now() }],
        }),
      })
      expect(await res.json()).toMatchObject({ accepted: 1 })
      // Three times as long as the other took to issue them, and at least 2 s.
      await new Promise((r) => setTimeout(r, Math.max(2_000, 3 * took)))
      expect(await invoices(ingesting.url)).toEqual([])
    } finally {
      await ingesting.stop()
    }

    const bill = await promisify(execFile)(process.execPath, [CLI, 'bill', '--config', env.config, '--db', only])
    expect(bill.stdout).toContain('acme: ')
    const db = await startCollector({ config: env.config, db: only, port: await freePort(), args: ['--no-billing'] })
    try {
      expect((await invoices(db.url)).map((i) => i.key)).toEqual(issued.map((i) => i.key))
    } finally {
      await db.stop()
    }
  })
})
