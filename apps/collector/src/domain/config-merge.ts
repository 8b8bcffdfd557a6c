/**
 * What a config file changes in the database (docs/configuration.md, "Where the truth lives"): a
 * three-way merge per object of the file as last applied (the base), the file now, and the
 * database. Only what the file changed since it was last applied is carried over, as a merge
 * patch (RFC 7396) onto the object the database holds, so what the admin API changed elsewhere
 * stays; where both changed the same field, the file's edit is the newer intent and wins.
 */
import type { TallyConfig } from '@tally/protocol'
import type { ConfigKind } from '../engines/repository.js'
import { mergePatch } from './merge-patch.js'

/** The objects the database keeps versions of, by kind and id. */
export interface ConfigObjects {
  plans: Record<string, unknown>
  accounts: Record<string, unknown>
}

/** A change to one object: its body before (null: new) and after (null: removed). */
export interface ObjectChange {
  kind: ConfigKind
  id: string
  before: unknown
  after: unknown
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export const KINDS: readonly { kind: ConfigKind; key: keyof ConfigObjects }[] = [
  { kind: 'plan', key: 'plans' },
  { kind: 'account', key: 'accounts' },
]

/** The plans and accounts of a config, as the database keeps them. */
export const objectsOf = (cfg: Pick<TallyConfig, 'plans' | 'accounts'>): ConfigObjects => ({ plans: cfg.plans, accounts: cfg.accounts })

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]))
  }
  if (!isObject(a) || !isObject(b)) return false
  const ka = Object.keys(a).filter((k) => a[k] !== undefined)
  const kb = Object.keys(b).filter((k) => b[k] !== undefined)
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
}

/**
 * The merge patch that turns `from` into `to` (objects merge key by key, anything else is
 * replaced whole, a key gone is `null`); undefined when they are equal.
 * @example diffPatch({ a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 4 } }) // { b: { c: 4, d: null } }
 */
export function diffPatch(from: unknown, to: unknown): unknown {
  if (deepEqual(from, to)) return undefined
  if (!isObject(from) || !isObject(to)) return to
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(to)) {
    if (v === undefined) continue
    const d = Object.hasOwn(from, k) && from[k] !== undefined ? diffPatch(from[k], v) : v
    if (d !== undefined) Object.defineProperty(out, k, { value: d, enumerable: true, writable: true, configurable: true })
  }
  for (const k of Object.keys(from)) if (from[k] !== undefined && (!Object.hasOwn(to, k) || to[k] === undefined)) out[k] = null
  return out
}

const get = (objects: ConfigObjects | null, key: keyof ConfigObjects, id: string): unknown =>
  objects && Object.hasOwn(objects[key], id) ? objects[key][id] : undefined

/**
 * The changes a config file makes to the database: for each object the file changed since `base`
 * (null: never applied, the file is new), the database's object with that change merged in.
 * An object the file removed is removed. Objects the file did not change are left alone.
 */
export function fileChanges(base: ConfigObjects | null, file: ConfigObjects, db: ConfigObjects): ObjectChange[] {
  const out: ObjectChange[] = []
  for (const { kind, key } of KINDS) {
    const ids = new Set([...Object.keys(base?.[key] ?? {}), ...Object.keys(file[key])])
    for (const id of ids) {
      const b = get(base, key, id)
      const f = get(file, key, id)
      const d = get(db, key, id)
      if (deepEqual(b, f)) continue
      let after: unknown
      if (f === undefined) after = undefined
      else if (d === undefined || b === undefined) after = d === undefined ? f : mergePatch(d, diffPatch({}, f))
      else after = mergePatch(d, diffPatch(b, f))
      if (deepEqual(after, d)) continue
      out.push({ kind, id, before: d ?? null, after: after ?? null })
    }
  }
  return out
}

/** The changes that make the database hold exactly `target` (the upgrade's seed). */
export function changesTo(target: ConfigObjects, db: ConfigObjects): ObjectChange[] {
  return fileChanges(db, target, db)
}

/** The objects after the changes. */
export function applyChanges(db: ConfigObjects, changes: readonly ObjectChange[]): ConfigObjects {
  const out: ConfigObjects = { plans: { ...db.plans }, accounts: { ...db.accounts } }
  for (const ch of changes) {
    const into = out[ch.kind === 'plan' ? 'plans' : 'accounts']
    if (ch.after === null) delete into[ch.id]
    else Object.defineProperty(into, ch.id, { value: ch.after, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * One line per changed path of an object, for `tally config apply`: `~ account acme subscription.seats: 3 -> 5`.
 */
export function describeChange(ch: ObjectChange): string[] {
  const head = `${ch.kind} ${ch.id}`
  if (ch.before === null) return [`+ ${head} (new)`]
  if (ch.after === null) return [`- ${head} (removed)`]
  const lines: string[] = []
  const walk = (patch: unknown, before: unknown, path: string[]) => {
    if (isObject(patch) && isObject(before)) {
      for (const [k, v] of Object.entries(patch)) walk(v, before[k], [...path, k])
      return
    }
    const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v))
    lines.push(`~ ${head} ${path.join('.')}: ${show(before)} -> ${patch === null ? '(removed)' : show(patch)}`)
  }
  walk(diffPatch(ch.before, ch.after), ch.before, [])
  return lines
}
