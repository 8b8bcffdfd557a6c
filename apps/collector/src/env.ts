/**
 * The collector's environment, read in one place (docs/deployment.md, "Environment"): every
 * variable it takes, its type and its default. A value that does not parse, or a `TALLY_`
 * variable no program of this repository reads (a typo: `TALLY_SQLITE_SYN`), stops the start with
 * one sentence naming the variable; nothing falls back silently.
 *
 * An empty value is the same as an unset one (`TALLY_ADMIN_TOKEN=` asks for a generated token).
 */
import { z } from 'zod'
import { closestName } from '@tally/protocol'
import { ConfigError } from './domain/config.js'

/** A port number, 0 to 65535 (0: any free port). */
const port = z
  .string()
  .regex(/^\d{1,5}$/, 'expected a port number')
  .transform(Number)
  .refine((n) => n <= 65535, 'expected a port number')
/** A positive whole number. */
const positive = (what: string) =>
  z
    .string()
    .regex(/^\d{1,12}$/, `expected a positive whole number${what}`)
    .transform(Number)
    .refine((n) => n >= 1, `expected a positive whole number${what}`)
const ms = positive(' of milliseconds')

/**
 * `TALLY_SQLITE_SYNC`: SQLite's `synchronous` setting. Taken without regard to case (`full` is
 * FULL, as SQLite's own PRAGMA takes it); any other value is refused rather than read as NORMAL.
 */
const sync = z
  .string()
  .transform((v) => v.toUpperCase())
  .pipe(z.enum(['NORMAL', 'FULL'], 'expected NORMAL or FULL'))

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Every variable the collector reads, and what it takes. */
export const ENV_SCHEMA = z.object({
  /** The configuration file (`--config` wins). */
  TALLY_CONFIG: z.string().optional(),
  /** `postgres://…` or `sqlite:FILE` (`--database-url` and `--db` win); checked by the CLI. */
  TALLY_DATABASE_URL: z.string().optional(),
  /** The admin API's bearer token; without it `start` and `serve` generate one and save it beside the database. */
  TALLY_ADMIN_TOKEN: z.string().optional(),
  TALLY_SQLITE_SYNC: sync.optional(),
  TALLY_PG_POOL_SIZE: positive('').optional(),
  TALLY_PG_STATEMENT_TIMEOUT_MS: ms.optional(),
  TALLY_PG_CONNECT_TIMEOUT_MS: ms.optional(),
  TALLY_WEBHOOK_RETRY_BASE_MS: ms.optional(),
  TALLY_WEBHOOK_RETRY_MAX_MS: ms.optional(),
  TALLY_WEBHOOK_GIVE_UP_MS: ms.optional(),
  TALLY_WEBHOOK_TIMEOUT_MS: ms.optional(),
  TALLY_WEBHOOK_POLL_MS: ms.optional(),
  /** The collector's port (`--port` wins; default 8787). */
  PORT: port.optional(),
  /** The demo storefront's port (`tally start`; `--storefront-port` wins). */
  STOREFRONT_PORT: port.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(', ')}`).optional(),
})
export type Env = z.output<typeof ENV_SCHEMA>

/**
 * `TALLY_` variables of the repository's other programs, which may sit in the same shell: the
 * examples (`examples/`), the webhook receiver of docs/webhooks.md, the test suite and the
 * benches. The collector ignores them; they are not typos.
 */
export const OTHER_PROGRAMS_VARIABLES = [
  'TALLY_URL',
  'TALLY_SECRET_KEY',
  'TALLY_WEBHOOK_SECRET',
  'TALLY_TEST_PG_URL',
  'TALLY_TEST_PG_BIN',
  'TALLY_BENCH_PG_URL',
  'TALLY_SCREENSHOTS',
] as const

const KNOWN = Object.keys(ENV_SCHEMA.shape)

/** A variable the collector does not read, or a value it cannot take: one sentence, exit 2 (cli.ts). */
export class EnvError extends ConfigError {}

/** The environment, checked; throws an EnvError of one sentence naming the first bad variable. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const given: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue
    if (Object.hasOwn(ENV_SCHEMA.shape, name)) given[name] = value
    else if (name.startsWith('TALLY_') && !(OTHER_PROGRAMS_VARIABLES as readonly string[]).includes(name)) {
      const guess = closestName(name, KNOWN)
      throw new EnvError(
        `${name} is not a variable the collector reads${guess ? `; did you mean ${guess}?` : ` (it reads ${KNOWN.filter((k) => k.startsWith('TALLY_')).join(', ')})`}`,
      )
    }
  }
  const r = ENV_SCHEMA.safeParse(given)
  if (!r.success) {
    const issue = r.error.issues[0] as z.core.$ZodIssue
    const name = String(issue.path[0])
    throw new EnvError(`${name}=${(given[name] ?? '').slice(0, 80)}: ${issue.message}`)
  }
  return r.data
}
