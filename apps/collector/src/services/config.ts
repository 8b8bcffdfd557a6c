/**
 * The configuration in the database (docs/configuration.md): the writes, each one transaction
 * under the configuration lock, and how a collector reads what is new.
 *
 * - `writeConfig`: an admin write, new versions of whole objects with their audit entries, refused
 *   (`stale`) when another write came in since the state it was decided on, so that the caller
 *   reads the new versions and decides again.
 * - `applyConfigFile`: the file at start and `tally config apply`: the three-way merge of
 *   ../domain/config-merge.ts as one change; on a database upgraded from stored changes (the table
 *   `config_changes`), those changes replayed over the file, as the collector did before versions.
 * - `refreshConfig` / `watchConfig`: a collector reads the versions after the newest it has, at
 *   once when notified (PostgreSQL `LISTEN`), and on a timer in case a notification was missed.
 */
import type { Logger } from 'pino'
import { parseConfig, type TallyConfig } from '@tally/protocol'
import type { ConfigKind, ConfigVersionRow, Repository } from '../engines/repository.js'
import { ConfigError, containerClash, createConfigState, type ConfigState } from '../domain/config.js'
import { applyChanges, changesTo, fileChanges, objectsOf, type ConfigObjects, type ObjectChange } from '../domain/config-merge.js'

/** One object to write, whole (null: removed), and what it was. */
export interface ConfigObjectWrite {
  kind: ConfigKind
  id: string
  body: unknown
  before: unknown
}

export interface ConfigWrite {
  /** The newest version the decision was made on: another since makes the write `stale`. */
  baseHead: number
  /** A state never backed by the database writes the file it holds first, when the database has no version yet. */
  seed?: TallyConfig
  objects: ConfigObjectWrite[]
  /** When the versions take effect (ms); `at` when null. */
  effectiveAt: number | null
  actor: string
  at: number
}

export type ConfigWriteOutcome = { ok: true; rows: ConfigVersionRow[] } | { ok: false; stale: true; head: number }

export interface FileApply {
  file: TallyConfig
  at: number
  /** Compute and report, write nothing. */
  dryRun?: boolean
}

export type FileApplyOutcome =
  | { ok: true; changes: ObjectChange[]; rows: ConfigVersionRow[]; upgraded: boolean; skipped: { kind: string; id: string; reason: string }[] }
  | { ok: false; message: string }

const PAGE = 1_000

/** Every version after `afterSeq`, a page at a time. */
async function versionsSince(db: Pick<Repository, 'configVersions'>, afterSeq: number): Promise<ConfigVersionRow[]> {
  const out: ConfigVersionRow[] = []
  for (let after = afterSeq; ; ) {
    const page = await db.configVersions(after, PAGE)
    out.push(...page)
    if (page.length < PAGE) return out
    after = page[page.length - 1]!.seq
  }
}

/** The newest body of every object (removed ones left out). */
function latestObjects(rows: readonly ConfigVersionRow[]): ConfigObjects {
  const out: ConfigObjects = { plans: {}, accounts: {} }
  for (const r of rows) {
    const into = r.kind === 'plan' ? out.plans : out.accounts
    if (r.body === null) delete into[r.id]
    else Object.defineProperty(into, r.id, { value: r.body, enumerable: true, writable: true, configurable: true })
  }
  return out
}

async function writeChanges(
  tx: Repository,
  changes: readonly ObjectChange[],
  latest: Map<string, ConfigVersionRow>,
  at: number,
  actor: string,
): Promise<ConfigVersionRow[]> {
  const rows: ConfigVersionRow[] = []
  for (const ch of changes) {
    // Never dated before the object's newest version: versions take effect in the order written.
    const newest = latest.get(`${ch.kind}:${ch.id}`)?.effectiveAt ?? at
    rows.push(
      await tx.insertConfigVersion({ kind: ch.kind, id: ch.id, body: ch.after, before: ch.before, effectiveAt: Math.max(at, newest), createdAt: at, actor }),
    )
  }
  return rows
}

const latestById = (rows: readonly ConfigVersionRow[]) => new Map(rows.map((r) => [`${r.kind}:${r.id}`, r]))

/** The file's changes (or the upgrade's seed) as one transaction; refused whole when the result is not a valid config. */
export async function applyConfigFile(tx: Repository, req: FileApply): Promise<FileApplyOutcome> {
  await tx.lockConfig()
  const rows = await versionsSince(tx, 0)
  const file = objectsOf(req.file)
  const db = latestObjects(rows)
  let changes: ObjectChange[]
  let upgraded = false
  let actor = 'config file'
  const skipped: { kind: string; id: string; reason: string }[] = []
  if (rows.length === 0) {
    const legacy = await tx.configChanges()
    if (legacy.length > 0) {
      // A database of a collector before versions: its stored changes replayed over the file, as
      // that collector did at each start, become the first versions.
      const state = createConfigState(req.file)
      state.replay(legacy, (ch, reason) => skipped.push({ kind: ch.kind, id: ch.id, reason }))
      changes = changesTo(objectsOf(state.current()), db)
      upgraded = true
      actor = 'upgrade'
    } else {
      changes = fileChanges(null, file, db)
    }
  } else {
    changes = fileChanges((await tx.configFile()) as ConfigObjects | null, file, db)
  }
  const next = applyChanges(db, changes)
  const parsed = parseConfig({ ...req.file, plans: next.plans, accounts: next.accounts })
  if (!parsed.ok) return { ok: false, message: `the file's changes merged with the database give an invalid configuration: ${parsed.message}` }
  const clash = containerClash(parsed.value)
  if (clash) return { ok: false, message: `the file's changes merged with the database give an invalid configuration: ${clash}` }
  // What is written is the validated value (defaults filled in), as an admin write writes.
  changes = changes.map((ch) => (ch.after === null ? ch : { ...ch, after: parsed.value[ch.kind === 'plan' ? 'plans' : 'accounts'][ch.id] }))
  if (req.dryRun) return { ok: true, changes, rows: [], upgraded, skipped }
  const written = await writeChanges(tx, changes, latestById(rows), req.at, actor)
  await tx.saveConfigFile(file, req.at)
  return { ok: true, changes, rows: written, upgraded, skipped }
}

/** An admin write: the objects' next versions and their audit entries, or `stale`. */
export async function writeConfig(tx: Repository, req: ConfigWrite): Promise<ConfigWriteOutcome> {
  await tx.lockConfig()
  const head = await tx.configHead()
  const rows: ConfigVersionRow[] = []
  if (head === 0 && req.seed) {
    const seeded = await applyConfigFile(tx, { file: req.seed, at: req.at })
    if (!seeded.ok) throw new ConfigError(seeded.message)
    rows.push(...seeded.rows)
  } else if (head !== req.baseHead) {
    return { ok: false, stale: true, head }
  }
  for (const o of req.objects) {
    rows.push(
      await tx.insertConfigVersion({
        kind: o.kind,
        id: o.id,
        body: o.body,
        before: o.before,
        effectiveAt: req.effectiveAt ?? req.at,
        createdAt: req.at,
        actor: req.actor,
      }),
    )
  }
  return { ok: true, rows }
}

/** What a collector reads of the configuration (the Store methods of the same names). */
export interface ConfigReader {
  configHead(): Promise<number>
  configVersions(afterSeq: number, limit: number): Promise<ConfigVersionRow[]>
}

/** Loads the versions the state has not read yet; resolves to how many. */
export async function refreshConfig(store: ConfigReader, config: ConfigState): Promise<number> {
  const rows = await versionsSince(store, config.head())
  config.load(rows)
  return rows.length
}

/**
 * The configuration a collector starts with: the file's changes applied to the database (the
 * database seeded from it the first time), then every version read. Throws ConfigError when the
 * file's changes cannot apply.
 */
export async function openConfig(
  store: ConfigReader & { applyConfigFile(req: FileApply): Promise<FileApplyOutcome> },
  file: TallyConfig,
  opts: { logger?: Logger; now?: () => number } = {},
): Promise<ConfigState> {
  const now = opts.now ?? Date.now
  const r = await store.applyConfigFile({ file, at: now() })
  if (!r.ok) throw new ConfigError(r.message)
  for (const s of r.skipped) opts.logger?.warn(s, 'a stored config change no longer applies; skipped at the upgrade')
  if (r.upgraded) opts.logger?.info({ objects: r.rows.length }, 'stored config changes upgraded to versions')
  else if (r.rows.length > 0) opts.logger?.info({ objects: r.changes.map((c) => `${c.kind} ${c.id}`) }, 'config file changes applied')
  const config = createConfigState(file, { now })
  await refreshConfig(store, config)
  return config
}

/**
 * Keeps a collector's state current: reads new versions when `subscribe` reports a change, and
 * checks the newest `seq` every `everyMs` (docs/scaling.md states the bound). One read at a time;
 * a change reported meanwhile reads again after it.
 */
export function watchConfig(deps: {
  store: ConfigReader
  config: ConfigState
  logger: Logger
  everyMs: number
  subscribe?: (listener: () => void, onError: (e: Error) => void) => () => Promise<void>
}): { stop(): Promise<void>; check(): Promise<void> } {
  const { store, config, logger } = deps
  let running: Promise<void> | undefined
  let again = false
  const read = async () => {
    do {
      again = false
      try {
        const before = config.head()
        const n = await refreshConfig(store, config)
        if (n > 0) logger.info({ from: before, to: config.head() }, 'configuration versions read')
      } catch (err) {
        logger.warn({ err }, 'reading configuration versions failed; the next check retries')
      }
    } while (again)
  }
  const check = (): Promise<void> => {
    if (running) {
      again = true
      return running
    }
    running = read().finally(() => {
      running = undefined
    })
    return running
  }
  const poll = setInterval(() => {
    store
      .configHead()
      .then((head) => (head > config.head() ? check() : undefined))
      .catch((err) => logger.warn({ err }, 'configuration version check failed'))
  }, deps.everyMs)
  poll.unref()
  const unsubscribe = deps.subscribe?.(
    () => void check(),
    (err) => logger.warn({ err }, 'configuration notifications interrupted; checking on the timer'),
  )
  return {
    check,
    async stop() {
      clearInterval(poll)
      await unsubscribe?.()
      await running
    },
  }
}
