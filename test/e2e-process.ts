/**
 * Runs the built collector (`apps/collector/dist/cli.js serve`) as a child process for the
 * crash, browser and benchmark-style tests: a temporary config and database, a fixed port so
 * that a restarted process answers at the same address.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const CLI = join(ROOT, 'apps/collector/dist/cli.js')

/** Node's fetch says `node`, which is a bot user agent: tests speak as a browser. */
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'

export function requireBuilt(...files: string[]): void {
  for (const f of [CLI, ...files]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`)
  }
}

/** A port nothing listens on now (the one function of it; the PostgreSQL harness has it). */
export { freePort } from './pg/server.js'

/** A config with one account and one container on `domains`, and limits that never bite a test. */
export function writeConfig(domains: string[], campaigns: Record<string, { active?: boolean }>, advisors: Record<string, { active?: boolean }> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tally-proc-'))
  const config = join(dir, 'config.json')
  writeFileSync(
    config,
    JSON.stringify({
      plans: { basic: { currency: 'EUR', basePrice: 0 } },
      accounts: {
        acme: {
          subscription: { plan: 'basic', cycle: 'monthly', start: '2026-01-01' },
          keys: { secret: 'sk_process_test', read: 'rk_process_test' },
          containers: { ctr_test: { domains, campaigns, advisors, bots: { bot_help: {} } } },
        },
      },
      server: { rateLimits: { perIp: { rate: 1e6, burst: 1e6 }, perContainer: { rate: 1e6, burst: 1e6 } }, sessionsPerHour: 1e6 },
    }),
  )
  return { dir, config, db: join(dir, 'tally.db') }
}

export interface Collector {
  url: string
  child: ChildProcess
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts `tally serve` (on the SQLite file `db`, or on PostgreSQL at `databaseUrl`) and resolves once it listens. */
export async function startCollector(opts: {
  config: string
  db: string
  databaseUrl?: string
  port: number
  env?: Record<string, string>
  /** Further flags of `tally serve`. */
  args?: string[]
}): Promise<Collector> {
  const database = opts.databaseUrl ? ['--database-url', opts.databaseUrl] : ['--db', opts.db]
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--config', opts.config, ...database, '--port', String(opts.port), '--host', '127.0.0.1', ...(opts.args ?? [])],
    { env: { ...process.env, TALLY_ADMIN_TOKEN: 'admin-process-test', LOG_LEVEL: 'warn', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${opts.port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the collector exited (${child.exitCode}): ${output}`)
    try {
      if ((await fetch(`${url}/healthz`)).ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the collector did not start: ${output}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url,
    child,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
