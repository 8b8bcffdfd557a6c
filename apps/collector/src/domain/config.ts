/**
 * The configuration in force (docs/configuration.md). The database holds the truth: every
 * version of every plan and account (containers inside), whole; the file of docs/protocol.md §7
 * seeds it and gives the server settings. This state is what one collector has read of those
 * versions: it is loaded at start, grows with each version written here or read from the
 * database later (`load`), and puts a version in force at its `effectiveAt`.
 *
 * A state made from a config alone (tests, `createApp` with a config) holds that config until the
 * first version is loaded; the first admin write then seeds the database with it.
 *
 * Container ids are unique across accounts: the beacon URL names the container only.
 */
import { readFileSync } from 'node:fs'
import { isConfigId, parseAccount, parseConfigText, parseContainer, type AccountConfig, type ContainerConfig, type TallyConfig } from '@tally/protocol'
import { compileDomains, type DomainMatcher } from './origin.js'
import { fail } from './errors.js'
import { mergePatch } from './merge-patch.js'
import type { ConfigChange, ConfigKind, ConfigVersionRow } from '../engines/repository.js'

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** Reads and validates a config file; the error names the file and the path of the bad value. */
export function loadConfigFile(path: string): TallyConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the config file (${(e as Error).message})`)
  }
  // Not JSON, a key given twice, or a bad value: each message names the path.
  const r = parseConfigText(text)
  if (!r.ok) throw new ConfigError(`${path}: ${r.message}`)
  const clash = containerClash(r.value)
  if (clash) throw new ConfigError(`${path}: ${clash}`)
  return r.value
}

/**
 * Container ids and account keys must each name one thing: the beacon URL names only the
 * container, and a key shared by two accounts would read whichever the index met last.
 */
export function containerClash(cfg: TallyConfig): string | null {
  const owner = new Map<string, string>()
  const keyOwner = new Map<string, string>()
  for (const [accountId, acc] of Object.entries(cfg.accounts)) {
    for (const id of Object.keys(acc.containers)) {
      const other = owner.get(id)
      if (other) return `accounts.${accountId}.containers.${id}: container id already used by account "${other}"`
      owner.set(id, accountId)
    }
    for (const scope of ['secret', 'read'] as const) {
      const other = keyOwner.get(acc.keys[scope])
      if (other) return `accounts.${accountId}.keys.${scope}: key already used by account "${other}"`
      keyOwner.set(acc.keys[scope], accountId)
    }
  }
  return null
}

export interface ContainerEntry {
  id: string
  accountId: string
  account: AccountConfig
  container: ContainerConfig
  domains: DomainMatcher
}

export interface ConfigState {
  current(): TallyConfig
  container(id: string): ContainerEntry | undefined
  account(id: string): AccountConfig | undefined
  /** The account a bearer key belongs to, and whether it is the secret or the read key. */
  accountByKey(key: string): { id: string; account: AccountConfig; scope: 'secret' | 'read' } | undefined
  /** The newest version read (its `seq`), 0 before any. */
  head(): number
  /** True once versions of the database are loaded (the database is the truth). */
  backed(): boolean
  /** The version of an object in force now, or its newest (`latest`, perhaps not yet in force); undefined when none. */
  version(kind: ConfigKind, id: string, which?: 'inForce' | 'latest'): ConfigVersionRow | undefined
  /**
   * The version of an object in force at `at`; before its first version, the first (it stands for
   * the file the database was seeded from). Undefined when the object has no version.
   */
  versionAt(kind: ConfigKind, id: string, at: number): ConfigVersionRow | undefined
  /** When each version of an object takes effect, in order. */
  versionTimes(kind: ConfigKind, id: string): number[]
  /** Validates an account body (admin PUT); throws `DomainError` `invalid_request`/`conflict`. Returns the config it would give. */
  withAccount(id: string, body: unknown): TallyConfig
  /** Validates a container body (admin PUT, with `account` naming the owner when new). */
  withContainer(id: string, body: unknown): TallyConfig
  /**
   * The account body a merge patch (RFC 7396) gives: the whole account (its newest version, its
   * containers included) with the patch applied; 404 when there is no such account.
   */
  patchedAccount(id: string, patch: unknown): Record<string, unknown>
  /** The container body a merge patch gives: the container in force with the patch applied; 404 when none. */
  patchedContainer(id: string, patch: unknown): Record<string, unknown>
  /** Replaces the config (a state not backed by the database only: tests, the upgrade's replay). */
  set(cfg: TallyConfig): void
  /** Takes versions read from the database or just written (in `seq` order); those already read are ignored. */
  load(rows: readonly ConfigVersionRow[]): void
  /** Replays changes stored before versions (the upgrade); one that no longer applies is reported and skipped. */
  replay(changes: readonly ConfigChange[], onSkip: (change: ConfigChange, reason: string) => void): void
}

interface ObjectVersions {
  /** The newest version in force, if any yet. */
  inForce?: ConfigVersionRow
  /** Versions taking effect later, by `effectiveAt`. */
  pending: ConfigVersionRow[]
  latest: ConfigVersionRow
  /** Every version read, by when it takes effect: what the billing run prices each instant by. */
  all: ConfigVersionRow[]
}

export function createConfigState(initial: TallyConfig, opts: { now?: () => number } = {}): ConfigState {
  const now = opts.now ?? Date.now
  /** The file's settings (server, …): what the database does not hold. */
  const file = initial
  let cfg = initial
  let containers = new Map<string, ContainerEntry>()
  let keys = new Map<string, { id: string; scope: 'secret' | 'read' }>()
  /** The last account of every container id this process has seen, removed ones included. */
  const owners = new Map<string, string>()
  const objects = new Map<string, ObjectVersions>()
  let head = 0
  let backed = false
  /** When the next pending version takes effect. */
  let nextSwitch = Number.POSITIVE_INFINITY
  /**
   * True while persisted changes are replayed: a change saved before a rule replays as it was
   * applied then (an owner move, keys the schema does not know, which were dropped then).
   */
  let replaying = false
  const index = () => {
    containers = new Map()
    keys = new Map()
    for (const [accountId, account] of Object.entries(cfg.accounts)) {
      keys.set(account.keys.secret, { id: accountId, scope: 'secret' })
      keys.set(account.keys.read, { id: accountId, scope: 'read' })
      for (const [id, container] of Object.entries(account.containers)) {
        containers.set(id, { id, accountId, account, container, domains: compileDomains(container.domains) })
        owners.set(id, accountId)
      }
    }
  }
  /** Puts in force the versions due by now and rebuilds the plans and accounts from them. */
  const rebuild = () => {
    const t = now()
    const plans: Record<string, unknown> = {}
    const accounts: Record<string, unknown> = {}
    nextSwitch = Number.POSITIVE_INFINITY
    for (const o of objects.values()) {
      while (o.pending.length > 0 && o.pending[0]!.effectiveAt <= t) o.inForce = o.pending.shift()
      if (o.pending.length > 0) nextSwitch = Math.min(nextSwitch, o.pending[0]!.effectiveAt)
      const v = o.inForce
      if (!v || v.body === null) continue
      const into = v.kind === 'plan' ? plans : accounts
      Object.defineProperty(into, v.id, { value: v.body, enumerable: true, writable: true, configurable: true })
    }
    cfg = { ...file, plans: plans as TallyConfig['plans'], accounts: accounts as TallyConfig['accounts'] }
    index()
  }
  const due = () => {
    if (now() >= nextSwitch) rebuild()
  }
  /** The account as a write starts from: its newest version, pending or in force. */
  const latestAccount = (id: string): AccountConfig | undefined => {
    if (!backed) return Object.hasOwn(cfg.accounts, id) ? cfg.accounts[id] : undefined
    const body = objects.get(`account:${id}`)?.latest.body
    return body === null || body === undefined ? undefined : (body as AccountConfig)
  }
  /**
   * A container id names one account for good (docs/protocol.md §6): its stored units are keyed by
   * the container, so a container removed from one account and given to another would hand the
   * new owner the old one's units (their evidence, their duplicates). Changes persisted before
   * this rule replay as they were.
   */
  const ownerClash = (next: TallyConfig): string | null => {
    if (replaying) return null
    for (const [accountId, account] of Object.entries(next.accounts)) {
      for (const id of Object.keys(account.containers)) {
        const before = owners.get(id)
        if (before !== undefined && before !== accountId) {
          return `accounts.${accountId}.containers.${id}: container id "${id}" belonged to account "${before}", whose stored units it keeps; choose another id`
        }
      }
    }
    return null
  }
  const clash = containerClash(cfg)
  if (clash) throw new ConfigError(clash)
  index()

  const state: ConfigState = {
    current: () => {
      due()
      return cfg
    },
    container: (id) => {
      due()
      return containers.get(id)
    },
    account: (id) => {
      due()
      return Object.hasOwn(cfg.accounts, id) ? cfg.accounts[id] : undefined
    },
    accountByKey(key) {
      due()
      const k = keys.get(key)
      const account = k && cfg.accounts[k.id]
      return k && account ? { id: k.id, account, scope: k.scope } : undefined
    },
    head: () => head,
    backed: () => backed,
    version(kind, id, which = 'inForce') {
      due()
      const o = objects.get(`${kind}:${id}`)
      return which === 'latest' ? o?.latest : o?.inForce
    },
    versionAt(kind, id, at) {
      const all = objects.get(`${kind}:${id}`)?.all
      if (!all || all.length === 0) return undefined
      let found = all[0]
      for (const v of all) {
        if (v.effectiveAt > at) break
        found = v
      }
      return found
    },
    versionTimes: (kind, id) => (objects.get(`${kind}:${id}`)?.all ?? []).map((v) => v.effectiveAt),
    withAccount(id, body) {
      checkId('account', id)
      const r = parseAccount(body, state.current().plans, { unknownKeys: replaying ? 'drop' : 'refuse' })
      if (!r.ok) throw fail('invalid_request', r.message)
      if (!Object.hasOwn(cfg.plans, r.value.subscription.plan)) {
        throw fail('invalid_request', `subscription.plan: unknown plan "${r.value.subscription.plan}"`)
      }
      const given = typeof body === 'object' && body !== null && Object.hasOwn(body, 'containers')
      // Without a `containers` field the account keeps its containers (a PUT of the billing data).
      const account = given ? r.value : { ...r.value, containers: latestAccount(id)?.containers ?? {} }
      const next = { ...cfg, accounts: { ...cfg.accounts, [id]: account } }
      const problem = containerClash(next) ?? ownerClash(next)
      if (problem) throw fail('conflict', problem)
      return next
    },
    withContainer(id, body) {
      checkId('container', id)
      // `account` names the owner beside the container's fields (docs/collector.md); the rest is the container.
      const { account: named, ...fields } = isObject(body) ? body : { account: undefined }
      const r = parseContainer(isObject(body) ? fields : body, { unknownKeys: replaying ? 'drop' : 'refuse' })
      if (!r.ok) throw fail('invalid_request', r.message)
      const owner = state.container(id)?.accountId
      if (named !== undefined && typeof named !== 'string') throw fail('invalid_request', 'account: expected a string')
      if (named !== undefined && owner !== undefined && named !== owner) {
        throw fail('conflict', `container "${id}" belongs to account "${owner}"`)
      }
      const accountId = owner ?? named
      if (accountId === undefined) throw fail('invalid_request', 'account: required for a new container')
      const account = latestAccount(accountId)
      if (!account || !state.account(accountId)) throw fail('invalid_request', `account: unknown account "${accountId}"`)
      const next = { ...cfg, accounts: { ...cfg.accounts, [accountId]: { ...account, containers: { ...account.containers, [id]: r.value } } } }
      const problem = ownerClash(next)
      if (problem) throw fail('conflict', problem)
      return next
    },
    patchedAccount(id, patch) {
      checkId('account', id)
      const account = state.account(id) && latestAccount(id)
      if (!account) throw fail('not_found', `no account "${id}"`)
      // The whole account, containers included: the version written is whole, never a partial body.
      return patchedObject(account, patch)
    },
    patchedContainer(id, patch) {
      checkId('container', id)
      const entry = state.container(id)
      if (!entry) throw fail('not_found', `no container "${id}"`)
      const container = latestAccount(entry.accountId)?.containers[id] ?? entry.container
      return patchedObject(container, patch)
    },
    set(next) {
      cfg = next
      index()
    },
    load(rows) {
      let changed = false
      for (const row of rows) {
        if (row.seq <= head && backed) continue
        const key = `${row.kind}:${row.id}`
        const o = objects.get(key)
        if (o && o.latest.version >= row.version) continue
        changed = true
        head = Math.max(head, row.seq)
        const entry: ObjectVersions = o ?? { pending: [], latest: row, all: [] }
        entry.latest = row
        entry.all = [...entry.all, row].sort((a, b) => a.effectiveAt - b.effectiveAt || a.seq - b.seq)
        // Pending versions stay ordered by when they take effect (writes never date one before the newest: see ../services/config.ts).
        entry.pending = [...entry.pending, row].sort((a, b) => a.effectiveAt - b.effectiveAt || a.seq - b.seq)
        objects.set(key, entry)
        if (row.kind === 'account' && isObject(row.body)) {
          for (const c of Object.keys((row.body as AccountConfig).containers ?? {})) owners.set(c, row.id)
        }
      }
      if (changed || !backed) {
        backed = true
        rebuild()
      }
    },
    replay(changes, onSkip) {
      replaying = true
      try {
        for (const ch of changes) {
          try {
            state.set(ch.kind === 'account' ? state.withAccount(ch.id, ch.body) : state.withContainer(ch.id, ch.body))
          } catch (e) {
            onSkip(ch, (e as Error).message)
          }
        }
      } finally {
        replaying = false
      }
    },
  }
  return state
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Admin ids are config ids (docs/protocol.md §7): an id with a line break or a slash would reach
 * headers and file names (the CSV export's `Content-Disposition`), so it is refused here, where
 * a change is checked and where a persisted change is replayed.
 */
export function checkId(what: string, id: string): void {
  if (!isConfigId(id)) throw fail('invalid_request', `${what} id: expected 1-64 characters of [A-Za-z0-9._:-], not a built-in property name`)
}

function patchedObject(current: object, patch: unknown): Record<string, unknown> {
  if (!isObject(patch)) throw fail('invalid_request', 'expected a JSON object (a merge patch, RFC 7396)')
  return mergePatch(current, patch) as Record<string, unknown>
}
