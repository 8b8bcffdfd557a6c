/**
 * Vitest global setup: one PostgreSQL for the whole run, handed to the test files as
 * `inject('postgres')`; each file then makes its own database with `freshDatabase()`.
 *
 * - `TALLY_TEST_PG_URL` set: that server is used as is (its user needs CREATEDB).
 * - Otherwise a throwaway cluster is started (see ./server.ts) and stopped after the run.
 * - No PostgreSQL at all: under `CI=true` the run fails here, loudly; elsewhere the PostgreSQL
 *   suites skip, and this prints the one-line reason.
 */
import type { TestProject } from 'vitest/node'
import { findPostgresBinaries, startTestPostgres } from './server.js'

export interface ProvidedPostgres {
  /** An admin URL (may create databases), or null when the PostgreSQL suites skip. */
  url: string | null
  /** Where it came from, or why there is none. */
  note: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: ProvidedPostgres
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.TALLY_TEST_PG_URL
  if (given) {
    project.provide('postgres', { url: given, note: 'TALLY_TEST_PG_URL' })
    return undefined
  }
  const ci = process.env.CI === 'true'
  const found = findPostgresBinaries()
  if ('missing' in found) return skip(project, ci, found.missing)
  try {
    const server = await startTestPostgres({ binaries: found })
    project.provide('postgres', { url: server.url, note: `PostgreSQL ${server.version} from ${found.source}, started in ${server.startMs} ms` })
    return () => server.stop()
  } catch (e) {
    return skip(project, ci, `PostgreSQL from ${found.bin} did not start: ${(e as Error).message.split('\n').join(' | ')}`)
  }
}

function skip(project: TestProject, ci: boolean, reason: string): undefined {
  // CI installs PostgreSQL (.ci/run): there a missing one is a failure, never a silent skip.
  if (ci) throw new Error(`CI=true and no PostgreSQL for the PostgreSQL suites: ${reason}`)
  console.warn(`PostgreSQL suites skipped: ${reason}`)
  project.provide('postgres', { url: null, note: reason })
  return undefined
}
