/**
 * `tally bill` killed with SIGKILL midway and run again finalizes each invoice once: the same
 * invoices, numbers and totals as a run never interrupted (each account's run is one
 * transaction: docs/architecture.md). The built CLI as child processes.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { CLI, requireBuilt } from '../e2e-process.js'

const dir = mkdtempSync(join(tmpdir(), 'tally-bill-kill-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ACCOUNTS = 400
const AS_OF = '2026-11-01T00:00:00Z'
const config = join(dir, 'config.json')
writeFileSync(
  config,
  JSON.stringify({
    plans: { basic: { currency: 'EUR', basePrice: 4900 } },
    accounts: Object.fromEntries(
      Array.from({ length: ACCOUNTS }, (_, i) => [
        `acc${i}`,
        { subscription: { plan: 'basic', cycle: 'monthly', start: '2024-01-01' }, keys: { secret: `sk_acc${i}_secret_key`, read: `rk_acc${i}_read_key` } },
      ]),
    ),
  }),
)

const invoices = (db: string) => {
  const d = new Database(db, { readonly: true })
  try {
    return (d.prepare('SELECT account, key, number, total FROM invoices ORDER BY account, number').all() as object[]).map((r) => JSON.stringify(r))
  } finally {
    d.close()
  }
}
const count = (db: string) => {
  try {
    const d = new Database(db, { readonly: true })
    try {
      return (d.prepare('SELECT COUNT(*) AS n FROM invoices').get() as { n: number }).n
    } finally {
      d.close()
    }
  } catch {
    return 0
  }
}
const bill = (db: string) =>
  spawnSync(process.execPath, [CLI, 'bill', '--config', config, '--db', db, '--as-of', AS_OF], { encoding: 'utf8', timeout: 120_000 })

describe('a billing run killed midway', () => {
  it('rerun, finalizes each invoice once, as a run never interrupted does', async () => {
    requireBuilt()
    const reference = join(dir, 'reference.db')
    expect(bill(reference).status).toBe(0)
    const expected = invoices(reference)
    expect(expected.length).toBeGreaterThan(ACCOUNTS)

    const killed = join(dir, 'killed.db')
    expect(spawnSync(process.execPath, [CLI, 'migrate', '--db', killed]).status).toBe(0)
    const child = spawn(process.execPath, [CLI, 'bill', '--config', config, '--db', killed, '--as-of', AS_OF], { stdio: 'ignore' })
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)))
    // Killed once some accounts are invoiced and before all are.
    const deadline = Date.now() + 60_000
    while (count(killed) < expected.length / 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    child.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')
    const partial = count(killed)
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(expected.length)

    expect(bill(killed).status).toBe(0)
    expect(invoices(killed)).toEqual(expected)
    // A third run changes nothing.
    expect(bill(killed).status).toBe(0)
    expect(invoices(killed)).toEqual(expected)
  }, 180_000)
})
