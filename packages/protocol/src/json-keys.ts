/**
 * Keys of JSON that `JSON.parse` and zod let through without a word: a key given twice (the last
 * wins) and an own `__proto__` key (dropped). The config parsers (./config.ts) look for both first.
 */

/**
 * The first key given twice in one object of a JSON text, with its path (`accounts.acme.name`), or
 * null. The text must be valid JSON (parse it first): this only scans tokens. Keys are compared
 * after unescaping, so `"a"` and `"\u0061"` are the same key.
 * @example duplicateKey('{"a":{"b":1,"b":2}}') // { path: 'a.b', key: 'b' }
 */
export function duplicateKey(text: string): { path: string; key: string } | null {
  type Frame = { path: string[]; keys: Set<string>; last: string } | { path: string[]; index: number }
  const stack: Frame[] = []
  const childPath = (): string[] => {
    const top = stack[stack.length - 1]
    if (!top) return []
    return [...top.path, 'keys' in top ? top.last : String(top.index)]
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      const raw = text.slice(i, j + 1)
      i = j
      const top = stack[stack.length - 1]
      let k = j + 1
      while (k < text.length && /\s/.test(text[k] ?? '')) k++
      if (top && 'keys' in top && text[k] === ':') {
        const name = JSON.parse(raw) as string
        if (top.keys.has(name)) return { path: [...top.path, name].join('.'), key: name }
        top.keys.add(name)
        top.last = name
        i = k
      }
    } else if (c === '{') {
      stack.push({ path: childPath(), keys: new Set(), last: '' })
    } else if (c === '[') {
      stack.push({ path: childPath(), index: 0 })
    } else if (c === '}' || c === ']') {
      stack.pop()
    } else if (c === ',') {
      const top = stack[stack.length - 1]
      if (top && 'index' in top) top.index++
    }
  }
  return null
}

/**
 * The path of the first own `__proto__` key in a parsed JSON value, or null. `JSON.parse` keeps
 * such a key as an own property, and zod drops it without a word, so it is looked for first.
 */
export function protoKeyPath(input: unknown): string | null {
  const stack: { value: unknown; path: string[] }[] = [{ value: input, path: [] }]
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, path } = item
    if (typeof value !== 'object' || value === null) continue
    if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return [...path, '__proto__'].join('.')
    for (const [k, v] of Object.entries(value)) stack.push({ value: v, path: [...path, k] })
  }
  return null
}

/** How deep objects and arrays of a config file or an admin body may nest (docs/configuration.md). */
export const MAX_JSON_DEPTH = 32

/**
 * True when a JSON text nests objects and arrays deeper than `max`: one pass over the characters,
 * no recursion, strings skipped, so a hostile body is refused before anything walks it. Text
 * that is not JSON gives an answer too (its parse refuses it afterwards).
 * @example jsonTooDeep('[[[]]]', 2) // true
 */
export function jsonTooDeep(text: string, max: number): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === 92 /* \ */) i++
        else if (d === 34) break
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--
    }
  }
  return false
}
