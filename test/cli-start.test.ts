/**
 * `tally start` (what `npm start` runs) as a process: the banner tells the read key the
 * collector really accepts, an admin change saved in the database included.
 */
import { describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, freePort, requireBuilt, writeConfig } from './e2e-process.js'

const ADMIN = 'admin-start-test'

async function start(dir: string, config: string) {
  const [port, shop] = [await freePort(), await freePort()]
  const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--storefront-port', String(shop)], {
    cwd: dir, env: { ...process.env, TALLY_CONFIG: config, TALLY_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (out += d))
  const deadline = Date.now() + 20_000
  while (!out.includes('Read key')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tally start did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const stop = () => new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
  return { url: `http://127.0.0.1:${port}`, banner: () => out, stop }
}

describe('tally start', () => {
  it('prints the read key saved through the admin API, not the one in the file', async () => {
    requireBuilt()
    const { dir, config } = writeConfig(['shop.test'], { cmp_a: {} })
    const first = await start(dir, config)
    expect(first.banner()).toMatch(/Read key\s+rk_process_test\b/)
    const account = (JSON.parse(readFileSync(config, 'utf8')) as { accounts: { acme: Record<string, unknown> } }).accounts.acme
    const res = await fetch(`${first.url}/v1/admin/accounts/acme`, {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...account, keys: { secret: 'sk_rotated_secret', read: 'rk_rotated_read' } }),
    })
    expect(res.status).toBe(200)
    await first.stop()

    const second = await start(dir, config)
    try {
      expect(second.banner()).toMatch(/Read key\s+rk_rotated_read\b/)
      expect(second.banner()).not.toContain('rk_process_test')
      expect((await fetch(`${second.url}/v1/usage`, { headers: { authorization: 'Bearer rk_rotated_read' } })).status).toBe(200)
    } finally {
      await second.stop()
    }
  }, 60_000)
})

describe('tally serve on a database it cannot open', () => {
  it.each([
    ['a directory', (dir: string) => { mkdirSync(join(dir, 'dir.db')); return join(dir, 'dir.db') }, /SQLITE_CANTOPEN/],
    ['a file that is not a database', (dir: string) => { writeFileSync(join(dir, 'junk.db'), 'not a database at all, just text'.repeat(200)); return join(dir, 'junk.db') }, /SQLITE_NOTADB/],
  ])('says so in one sentence naming the file and the cause, and exits 2, for %s', async (_what, make, cause) => {
    requireBuilt()
    const { dir, config } = writeConfig(['shop.test'], { cmp_a: {} })
    const db = make(dir)
    const child = spawn(process.execPath, [CLI, 'serve', '--config', config, '--db', db, '--port', String(await freePort()), '--host', '127.0.0.1'], {
      env: { ...process.env, TALLY_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout?.on('data', (d) => (out += d))
    child.stderr?.on('data', (d) => (out += d))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).toBe(2)
    const lines = out.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`tally: cannot open the database ${db}`)
    expect(lines[0]).toMatch(cause)
    expect(out).not.toMatch(/\n\s+at /)
  }, 30_000)
})
