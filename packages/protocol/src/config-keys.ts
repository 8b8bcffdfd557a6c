/**
 * The config's object and id rules, shared by every schema of ./config.ts: objects refuse unknown keys
 * (naming the closest known one), ids follow ID_PATTERN and never name a built-in object property.
 */
import { z } from 'zod'
import { ID_PATTERN } from './limits.js'

export const name = z.string().min(1).max(64).regex(ID_PATTERN)

/**
 * Edit distance between two keys (optimal string alignment: a swap of two neighbours is one
 * edit), compared without case, so `SessionsPerHour` and `sesionsPerHour` both find `sessionsPerHour`.
 */
export function distance(a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[x.length]![y.length]!
}

/** The name of `names` closest to `name` (at most a third of its letters wrong, case aside), if any. */
export function closestName(name: string, names: readonly string[]): string | undefined {
  return names.filter((k) => distance(name, k) <= Math.max(1, Math.floor(k.length / 3))).sort((a, b) => distance(name, a) - distance(name, b))[0]
}

/** The object schema inside `.default()`, `.prefault()`, `.optional()`, or null when it is no object. */
export function objectShape(schema: z.core.$ZodType): Record<string, z.core.$ZodType> | null {
  let s = schema._zod.def as z.core.$ZodTypeDef & { innerType?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType> }
  while (s.innerType && s.type !== 'object') s = s.innerType._zod.def as typeof s
  return s.type === 'object' && s.shape ? s.shape : null
}

/**
 * What an unknown key gets: the closest key of the same object (at most a third of its letters
 * wrong), else a key one level down that it matches (`server.allowPrivateNetworks` ->
 * `webhooks.allowPrivateNetworks`), else the list of the keys this object takes.
 */
export function unknownKeyMessage(key: string, shape: Readonly<Record<string, z.core.$ZodType>>): string {
  const near = (k: string) => distance(key, k) <= Math.max(1, Math.floor(k.length / 3))
  const closest = (keys: string[], last: (k: string) => string) =>
    keys.filter((k) => near(last(k))).sort((a, b) => distance(key, last(a)) - distance(key, last(b)))[0]
  const own = Object.keys(shape)
  const nested = own.flatMap((k) => Object.keys(objectShape(shape[k]!) ?? {}).map((inner) => `${k}.${inner}`))
  const guess = closest(own, (k) => k) ?? closest(nested, (k) => k.slice(k.indexOf('.') + 1))
  return guess !== undefined ? `unknown key; did you mean "${guess}"?` : `unknown key (known keys: ${own.join(', ')})`
}

/**
 * An object schema that refuses a key it does not know (zod's default drops it), with a message
 * that suggests the closest known key; `explain` adds the key to the path.
 */
export function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.strictObject(shape, { error: (iss) => (iss.code === 'unrecognized_keys' ? unknownKeyMessage(String(iss.keys[0]), shape) : undefined) })
}

/**
 * Ids that are names of `Object.prototype` properties. As keys of a plain object they shadow or
 * reach the prototype (`plans.constructor` is a function even when no plan has that name), so no
 * plan, account, container, campaign, advisor, bot, credit pack, action or product may use one.
 */
export const RESERVED_IDS: readonly string[] = [
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]
export const RESERVED = new Set([...RESERVED_IDS, ...Object.getOwnPropertyNames(Object.prototype)])

/** An id used as the key of a record (plans, accounts, containers, ...). */
export const key = name.refine((k) => !RESERVED.has(k), { error: (i) => `"${String(i.input)}" is the name of a built-in object property; choose another id` })
