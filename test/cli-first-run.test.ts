/**
 * The first run from a clone as a process (docs/protocol.md §8): `tally start` honours `PORT`
 * and puts the storefront on the next free port, the banner names the real addresses, a taken
 * port is one line and exit 2, a generated admin token is kept beside the database and shown
 * once, and the committed `tally` bin says what to do before the build exists.
 */
import { describe, expect, it } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, ROOT, freePort, requireBuilt, writeConfig } from './e2e-process.js'

function run(args: string[], env: Record<string, string | undefined>, cwd: string, until: string) {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, TALLY_ADMIN_TOKEN: undefined, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (err += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const ready = (async () => {
    const deadline = Date.now() + 20_000
    while (!out.includes(until)) {
      if (child.exitCode !== null) return false
      if (Date.now() > deadline) throw new Error(`no "${until}" in time: ${out}${err}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    return true
  })()
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM')
    return exited
  }
  return { ready, exited, stop, out: () => out, err: () => err }
}

/** Holds a loopback port, as another program would. */
async function hold(port: number): Promise<Server> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve))
  return s
}

describe('the first run', () => {
  it('tally start honours PORT, puts the storefront on the next free port and prints the real addresses', async () => {
    requireBuilt()
    const { dir, config } = writeConfig(['localhost'], { cmp_a: {} })
    const port = await freePort()
    // The port right after the collector's is taken: the storefront takes the next free one.
    const taken = await hold(port + 1).catch(() => undefined)
    const p = run(['start'], { PORT: String(port), TALLY_CONFIG: config }, dir, 'Admin token')
    try {
      expect(await p.ready).toBe(true)
      const banner = p.out()
      expect(banner).toContain(`Tally collector   http://127.0.0.1:${port}\n`)
      expect(banner).toContain(`TALLY_URL=http://127.0.0.1:${port} node examples/server-usage/send.mjs`)
      const shop = Number(/Demo storefront\s+http:\/\/localhost:(\d+)\//.exec(banner)?.[1])
      expect(shop).toBeGreaterThan(port + (taken ? 1 : 0))
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
      expect(await (await fetch(`http://localhost:${shop}/`)).text()).toContain(`http://127.0.0.1:${port}`)
    } finally {
      await p.stop()
      taken?.close()
    }
  }, 60_000)

  it('keeps a generated admin token beside the database, readable by its owner only, and shows it once', async () => {
    requireBuilt()
    const { dir, config, db } = writeConfig(['shop.test'], { cmp_a: {} })
    const port = await freePort()
    const args = ['serve', '--config', config, '--db', db, '--port', String(port), '--host', '127.0.0.1']
    const first = run(args, {}, dir, 'admin token')
    expect(await first.ready).toBe(true)
    await new Promise((r) => setTimeout(r, 100))
    const token = /admin token: (\S+)\s+\(generated/.exec(first.out())?.[1]
    expect(token).toBeTruthy()
    expect(await first.stop()).toBe(0)
    const file = `${db}.admin-token`
    expect(readFileSync(file, 'utf8').trim()).toBe(token)
    expect(statSync(file).mode & 0o777).toBe(0o600)

    const second = run(args, {}, dir, 'admin token')
    try {
      expect(await second.ready).toBe(true)
      const admin = (bearer: string) => fetch(`http://127.0.0.1:${port}/v1/admin/accounts/acme`, { headers: { authorization: `Bearer ${bearer}` } })
      expect((await admin(token!)).status).toBe(200)
      expect((await admin('not-the-token')).status).toBe(401)
      expect(second.out()).toContain(`saved in ${file}`)
      expect(second.out() + second.err()).not.toContain(token!)
    } finally {
      await second.stop()
    }
  }, 60_000)

  it.each([
    ['serve, the collector port', (port: number) => ['serve', '--port', String(port), '--host', '127.0.0.1'], {}, '--port <n> or PORT=<n>'],
    ['start, the collector port', (port: number) => ['start', '--port', String(port)], {}, '--port <n> or PORT=<n>'],
    ['start, PORT', () => ['start'], { PORT: 'held' }, '--port <n> or PORT=<n>'],
    ['start, the storefront port', () => ['start'], { STOREFRONT_PORT: 'held', PORT: 'free' }, '--storefront-port <n> or STOREFRONT_PORT=<n>'],
  ] as const)(
    'refuses a port in use in one line and exits 2 (%s)',
    async (_, args, env, remedy) => {
      requireBuilt()
      const { dir, config, db } = writeConfig(['shop.test'], { cmp_a: {} })
      const held = await freePort()
      const free = await freePort()
      const server = await hold(held)
      try {
        const vars = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v === 'held' ? held : free)]))
        const extra = args(held)[0] === 'serve' ? ['--config', config, '--db', db] : []
        const p = run([...args(held), ...extra], { TALLY_CONFIG: config, ...vars }, dir, 'never printed')
        expect(await p.exited).toBe(2)
        expect(p.err().trim()).toBe(
          `tally: port ${held}${remedy.startsWith('--storefront') ? ' (the demo storefront)' : ''} is already in use; choose another with ${remedy}`,
        )
        expect(p.out()).not.toContain('EADDRINUSE')
      } finally {
        server.close()
      }
    },
    60_000,
  )

  it.each([
    [{ TALLY_SQLITE_SYNC: 'fast' }, 'tally: TALLY_SQLITE_SYNC=fast: expected NORMAL or FULL'],
    [{ TALLY_SQLITE_SYN: 'FULL' }, 'tally: TALLY_SQLITE_SYN is not a variable the collector reads; did you mean TALLY_SQLITE_SYNC?'],
    [{ PORT: 'eighty' }, 'tally: PORT=eighty: expected a port number'],
  ] as const)(
    'stops the start on a bad environment (%j) in one sentence and exits 2, before opening anything',
    async (env, line) => {
      requireBuilt()
      const { dir, config, db } = writeConfig(['shop.test'], { cmp_a: {} })
      const p = run(['serve', '--config', config, '--db', db, '--port', '0', '--host', '127.0.0.1'], env, dir, 'never printed')
      expect(await p.exited).toBe(2)
      expect(p.err().trim()).toBe(line)
      expect(existsSync(db)).toBe(false)
    },
    60_000,
  )

  it('the tally bin of a clone runs the built CLI, and says to build when the build is missing', () => {
    requireBuilt()
    const bin = join(ROOT, 'node_modules/.bin/tally')
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8' })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('Usage: tally')

    // The same file where no dist/ exists yet, as in a clone before its first build.
    const dir = mkdtempSync(join(tmpdir(), 'tally-bin-'))
    mkdirSync(join(dir, 'bin'))
    copyFileSync(join(ROOT, 'apps/collector/bin/tally.js'), join(dir, 'bin/tally.js'))
    const bare = spawnSync(process.execPath, [join(dir, 'bin/tally.js'), '--help'], { encoding: 'utf8' })
    expect(bare.status).toBe(2)
    expect(bare.stderr).toContain('run `npm run build`')
  })
})
