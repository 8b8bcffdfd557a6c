/**
 * JSON merge patch (RFC 7396), the semantics of the admin PATCH routes (docs/protocol.md §6):
 * a field left out is kept, `null` removes a field, an object merges into an object, and
 * anything else, arrays included, replaces the value whole (so a domain is added by sending the
 * full `domains` list).
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    // Defined, not assigned: a `__proto__` key of parsed JSON stays a plain field.
    else
      Object.defineProperty(out, key, {
        value: mergePatch(Object.hasOwn(out, key) ? out[key] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      })
  }
  return out
}
