/**
 * The configuration in force: the file of docs/protocol.md §7, validated at start, with run-time changes
 * (`PUT /v1/admin/accounts/{id}`, `/v1/admin/containers/{id}`) replayed over it. Changes are
 * persisted in the store by the admin routes and replayed in order at the next start, so they
 * survive a restart; the file stays the base.
 *
 * Container ids are unique across accounts: the beacon URL names the container only.
 */
import { readFileSync } from 'node:fs'
import { isConfigId, parseAccount, parseConfigText, parseContainer, type AccountConfig, type ContainerConfig, type TallyConfig } from '@tally/protocol'
import { compileDomains, type DomainMatcher } from './origin.js'
import { fail } from './errors.js'
import { mergePatch } from './merge-patch.js'
import type { ConfigChange } from '../store/repository.js'

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
function containerClash(cfg: TallyConfig): string | null {
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
  /** Validates an account body (admin PUT); throws `DomainError` `invalid_request`/`conflict`. Returns the config it would give. */
  withAccount(id: string, body: unknown): TallyConfig
  /** Validates a container body (admin PUT, with `account` naming the owner when new). */
  withContainer(id: string, body: unknown): TallyConfig
  /**
   * The account body a merge patch (RFC 7396) gives: the account in force with the patch
   * applied; 404 when there is no such account. Without `containers` in the patch the body
   * leaves them out, so that it keeps the containers in force when replayed.
   */
  patchedAccount(id: string, patch: unknown): Record<string, unknown>
  /** The container body a merge patch gives: the container in force with the patch applied; 404 when none. */
  patchedContainer(id: string, patch: unknown): Record<string, unknown>
  set(cfg: TallyConfig): void
  /** Replays persisted changes; one that no longer applies is reported and skipped. */
  replay(changes: readonly ConfigChange[], onSkip: (change: ConfigChange, reason: string) => void): void
}

export function createConfigState(initial: TallyConfig): ConfigState {
  let cfg = initial
  let containers = new Map<string, ContainerEntry>()
  let keys = new Map<string, { id: string; scope: 'secret' | 'read' }>()
  /** The last account of every container id this process has seen, removed ones included. */
  const owners = new Map<string, string>()
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
    current: () => cfg,
    container: (id) => containers.get(id),
    account: (id) => (Object.hasOwn(cfg.accounts, id) ? cfg.accounts[id] : undefined),
    accountByKey(key) {
      const k = keys.get(key)
      const account = k && cfg.accounts[k.id]
      return k && account ? { id: k.id, account, scope: k.scope } : undefined
    },
    withAccount(id, body) {
      checkId('account', id)
      const r = parseAccount(body, cfg.plans, { unknownKeys: replaying ? 'drop' : 'refuse' })
      if (!r.ok) throw fail('invalid_request', r.message)
      if (!Object.hasOwn(cfg.plans, r.value.subscription.plan)) {
        throw fail('invalid_request', `subscription.plan: unknown plan "${r.value.subscription.plan}"`)
      }
      const given = typeof body === 'object' && body !== null && Object.hasOwn(body, 'containers')
      // Without a `containers` field the account keeps its containers (a PUT of the billing data).
      const account = given ? r.value : { ...r.value, containers: state.account(id)?.containers ?? {} }
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
      const owner = containers.get(id)?.accountId
      if (named !== undefined && typeof named !== 'string') throw fail('invalid_request', 'account: expected a string')
      if (named !== undefined && owner !== undefined && named !== owner) {
        throw fail('conflict', `container "${id}" belongs to account "${owner}"`)
      }
      const accountId = owner ?? named
      if (accountId === undefined) throw fail('invalid_request', 'account: required for a new container')
      const account = state.account(accountId)
      if (!account) throw fail('invalid_request', `account: unknown account "${accountId}"`)
      const next = {
        ...cfg,
        accounts: { ...cfg.accounts, [accountId]: { ...account, containers: { ...account.containers, [id]: r.value } } },
      }
      const problem = ownerClash(next)
      if (problem) throw fail('conflict', problem)
      return next
    },
    patchedAccount(id, patch) {
      checkId('account', id)
      const account = state.account(id)
      if (!account) throw fail('not_found', `no account "${id}"`)
      const { containers, ...rest } = account
      const touches = isObject(patch) && Object.hasOwn(patch, 'containers')
      return patchedObject(touches ? { ...rest, containers } : rest, patch)
    },
    patchedContainer(id, patch) {
      checkId('container', id)
      const entry = containers.get(id)
      if (!entry) throw fail('not_found', `no container "${id}"`)
      return patchedObject(entry.container, patch)
    },
    set(next) {
      cfg = next
      index()
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
