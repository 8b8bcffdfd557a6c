/**
 * `tally start` (what `npm start` runs) as a process: the banner tells the read key the
 * collector really accepts, an admin change saved in the database included.
 */
import { describe, expect, it } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, freePort, requireBuilt, writeConfig } from './e2e-process.js'

const ADMIN = 'admin-start-test'

async function start(dir: string, config: string) {
  const [port, shop] = [await freePort(), await freePort()]
  const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--storefront-port', String(shop)], {
    cwd: dir,
    env: { ...process.env, TALLY_CONFIG: config, TALLY_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (out += d))
  const deadline = Date.now() + 20_000
  while (!out.includes('Read key')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tally start did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const stop = () =>
    new Promise<void>((resolve) => {
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
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
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
  /** Runs `tally serve` on `db` through `sh -c` with `shell` before it; answers its exit code and output. */
  async function serve(config: string, db: string, opts: { shell?: string; uid?: number; gid?: number; wrap?: string[] } = {}) {
    const args = [CLI, 'serve', '--config', config, '--db', db, '--port', String(await freePort()), '--host', '127.0.0.1']
    const quoted = [...(opts.wrap ?? []), process.execPath, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
    const child = spawn('sh', ['-c', `${opts.shell ?? ''} exec ${quoted}`], {
      env: { ...process.env, TALLY_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
    })
    let out = ''
    child.stdout?.on('data', (d) => (out += d))
    child.stderr?.on('data', (d) => (out += d))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    return { code, out }
  }

  /**
   * Permissions do not bind root. As root, the collector runs still as root but without the
   * capabilities that override them (`setpriv`, util-linux), so it reaches the clone wherever it
   * lies (a home or a temporary directory only root may enter) and still cannot write a 0444 file
   * in a 0555 directory. Without `setpriv` it runs as `nobody`, which needs a clone others may read.
   */
  function boundByPermissions(): { wrap?: string[]; uid?: number; gid?: number } {
    if (process.getuid?.() !== 0) return {}
    if (spawnSync('setpriv', ['--version']).status === 0) {
      return { wrap: ['setpriv', '--inh-caps=-all', '--bounding-set=-dac_override,-dac_read_search', '--'] }
    }
    return { uid: 65534, gid: 65534 }
  }

  function expectOneSentence({ code, out }: { code: number | null; out: string }, db: string, cause: RegExp) {
    expect(code).toBe(2)
    const lines = out.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`tally: cannot open the database ${db}`)
    expect(lines[0]).toMatch(cause)
    expect(out).not.toMatch(/\n\s+at /)
    expect(out).not.toContain('Failed to run the query')
  }

  it.each([
    [
      'a directory',
      (dir: string) => {
        mkdirSync(join(dir, 'dir.db'))
        return join(dir, 'dir.db')
      },
      /SQLITE_CANTOPEN/,
    ],
    [
      'a file that is not a database',
      (dir: string) => {
        writeFileSync(join(dir, 'junk.db'), 'not a database at all, just text'.repeat(200))
        return join(dir, 'junk.db')
      },
      /SQLITE_NOTADB/,
    ],
  ])(
    'says so in one sentence naming the file and the cause, and exits 2, for %s',
    async (_what, make, cause) => {
      requireBuilt()
      const { dir, config } = writeConfig(['shop.test'], { cmp_a: {} })
      const db = make(dir)
      expectOneSentence(await serve(config, db), db, cause)
    },
    30_000,
  )

  it('says the disk is full when the first write fails (a 16 KB file size limit)', async () => {
    requireBuilt()
    const { dir, config } = writeConfig(['shop.test'], { cmp_a: {} })
    const db = join(dir, 'full.db')
    // A write past the limit fails with EFBIG instead of killing the process (SIGXFSZ ignored).
    expectOneSentence(await serve(config, db, { shell: 'trap "" XFSZ; ulimit -f 16;' }), db, /full.*\(SQLITE_(FULL|IOERR)\)/)
  }, 30_000)

  it('says the file is read-only when it cannot be written', async () => {
    requireBuilt()
    const { dir, config } = writeConfig(['shop.test'], { cmp_a: {} })
    const db = join(dir, 'ro.db')
    writeFileSync(db, '')
    chmodSync(db, 0o444)
    chmodSync(config, 0o644)
    chmodSync(dir, 0o555)
    try {
      expectOneSentence(await serve(config, db, boundByPermissions()), db, /read-only \(SQLITE_READONLY\)/)
    } finally {
      chmodSync(dir, 0o755)
    }
  }, 30_000)
})

describe('tally serve on a config file with a misspelt key', () => {
  it("says so in one sentence naming the file, the key's path and the key it meant, and exits 2", async () => {
    requireBuilt()
    const { dir, config } = writeConfig(['shop.test'], { cmp_a: {} })
    const cfg = JSON.parse(readFileSync(config, 'utf8')) as { server: Record<string, unknown> }
    writeFileSync(config, JSON.stringify({ ...cfg, server: { ...cfg.server, sesionsPerHour: 10 } }))
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--config', config, '--db', join(dir, 'tally.db'), '--port', String(await freePort()), '--host', '127.0.0.1'],
      { env: { ...process.env, TALLY_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    child.stdout?.on('data', (d) => (out += d))
    child.stderr?.on('data', (d) => (out += d))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).toBe(2)
    expect(out.trim().split('\n')).toEqual([`tally: invalid configuration: ${config}: server.sesionsPerHour: unknown key; did you mean "sessionsPerHour"?`])
  }, 30_000)
})
