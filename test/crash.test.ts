/**
 * Durability: the collector is killed with SIGKILL while a client sends batches and retries the
 * ones that got no answer. After a restart on the same database and the retries, every event is
 * counted exactly once, and every batch acknowledged before the kill is already there.
 */
import { afterAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { rmSync } from 'node:fs'
import { BROWSER_UA, freePort, requireBuilt, startCollector, writeConfig, type Collector } from './e2e-process.js'

const ORIGIN = 'http://shop.crash.test'
const BATCHES = 120
const PER_BATCH = 25
const env = writeConfig(['shop.crash.test'], { cmp_a: {}, cmp_b: {} })
afterAll(() => rmSync(env.dir, { recursive: true, force: true }))

const makeBatch = (b: number) => {
  const now = Date.now()
  return {
    v: 1,
    sentAt: now,
    events: Array.from({ length: PER_BATCH }, (_, i) => ({
      // Two events of a session share a campaign: the second is a duplicate unit, not a new impression.
      id: `b${b}-e${i}`,
      type: 'impression',
      session: `s${b}-${i >> 1}`,
      campaign: 'cmp_a',
      ts: now,
    })),
  }
}

type Result = { accepted: number; duplicates: number }
const send = async (url: string, b: number): Promise<Result | null> => {
  try {
    const res = await fetch(`${url}/v1/containers/ctr_test/events`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
      body: JSON.stringify(makeBatch(b)),
      signal: AbortSignal.timeout(5000),
    })
    return res.status === 200 ? ((await res.json()) as Result) : null
  } catch {
    return null
  }
}

describe('a kill -9 while batches are in flight', () => {
  it('loses no acknowledged batch and counts every event exactly once after retries', async () => {
    requireBuilt()
    const port = await freePort()
    let collector: Collector = await startCollector({ ...env, port })
    const url = collector.url
    const ackedBeforeKill = new Set<number>()
    let killed = false
    let acks = 0
    let unanswered = 0

    // Four clients, each retrying its batches until acknowledged, as the SDK does.
    const queue = Array.from({ length: BATCHES }, (_, b) => b)
    const client = async () => {
      for (let b = queue.shift(); b !== undefined; b = queue.shift()) {
        for (;;) {
          const r = await send(url, b)
          if (r) {
            if (!killed) ackedBeforeKill.add(b)
            acks++
            break
          }
          unanswered++
          await new Promise((res) => setTimeout(res, 50))
        }
      }
    }
    const clients = Promise.all([client(), client(), client(), client()])

    while (acks < BATCHES / 3) await new Promise((r) => setTimeout(r, 5))
    killed = true
    expect(await collector.stop('SIGKILL')).toBeNull()
    expect(collector.child.signalCode).toBe('SIGKILL')
    await new Promise((r) => setTimeout(r, 300))
    collector = await startCollector({ ...env, port })

    await clients
    // Each batch acknowledged before the kill survived it: sent again, it is all duplicates.
    for (const b of ackedBeforeKill) {
      expect(await send(url, b)).toEqual({ accepted: 0, duplicates: PER_BATCH, rejected: [] })
    }
    expect(ackedBeforeKill.size).toBeGreaterThanOrEqual(BATCHES / 3)
    // The clients did meet the dead collector and retried across the restart.
    expect(unanswered).toBeGreaterThan(0)
    expect(await collector.stop('SIGTERM')).toBe(0)

    const db = new Database(env.db, { readonly: true })
    const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n
    expect(one('SELECT COUNT(*) AS n FROM impressions')).toBe((BATCHES * PER_BATCH) / 2 + BATCHES / 2)
    expect(one("SELECT SUM(units) AS n FROM rollups WHERE kind = 'campaign'")).toBe(one('SELECT COUNT(*) AS n FROM impressions'))
    db.close()
  }, 60_000)
})
