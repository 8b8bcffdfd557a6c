/**
 * Storage behind the session, dedup memory and outbox. IndexedDB (the database and store
 * idb-keyval's `createStore` makes, opened here with its `promisifyRequest`) so every tab of the
 * origin shares it; memory when IndexedDB is missing, throws or hangs, so the SDK
 * keeps working in private modes and broken browsers (idb-keyval#32, #120).
 */
import { promisifyRequest } from 'idb-keyval'

/**
 * What the tracker needs from storage, as one function: `store(key)` reads a value,
 * `store(key, fn)` replaces it with `fn(old)`; both resolve to the value now stored. An update
 * must be atomic across tabs (one IndexedDB readwrite transaction): sibling tabs claim dedup
 * keys and edit the outbox concurrently.
 *
 * @example createTracker({ container: 'ctr_shop', endpoint, store: memoryStore() })
 */
export type Store = <T>(key: string, fn?: (old: T | undefined) => T) => Promise<T | undefined>

/** A store that lives as long as the page: tests, and the fallback when IndexedDB fails. */
export function memoryStore(): Store {
  const m = new Map<string, unknown>()
  return async <T,>(k: string, f?: (old: T | undefined) => T) => {
    if (f) m.set(k, f(m.get(k) as T | undefined))
    return m.get(k) as T | undefined
  }
}

/** Time allowed for the first IndexedDB answer before giving up on it (Safari 14 never answers). */
export const OPEN_TIMEOUT_MS = 1500

/**
 * IndexedDB database `name` (one per container, so trackers share nothing), falling back to
 * memory for good when the first read fails or takes over 1.5 s, or when a later call fails.
 */
export function idbStore(name: string): Store {
  const mem = memoryStore()
  let use: Promise<Store> = new Promise((resolve) => {
    const fallback = () => resolve(mem)
    // Resolving twice does nothing: whichever of the first read and the timer comes first wins.
    setTimeout(fallback, OPEN_TIMEOUT_MS)
    try {
      // The layout idb-keyval's createStore(name, 'kv') made, so stored sessions and outboxes
      // carry over; its reopening of a closed connection is left out, a failure falls to memory.
      const open = indexedDB.open(name)
      open.onupgradeneeded = () => open.result.createObjectStore('kv')
      const db = promisifyRequest(open)
      const idb: Store = <T,>(k: string, f?: (old: T | undefined) => T) =>
        db.then((db) => {
          const t = db.transaction('kv', f ? 'readwrite' : 'readonly')
          const s = t.objectStore('kv')
          const r = s.get(k)
          let v: T | undefined
          r.onsuccess = () => {
            v = r.result
            // biome-ignore lint/suspicious/noAssignInExpressions: bytes: t.js has a gzip budget (size.test.ts)
            if (f) s.put((v = f(v)), k)
          }
          return promisifyRequest(t).then(() => v)
        })
      idb('s').then(() => resolve(idb), fallback)
    } catch {
      fallback()
    }
  })
  // A failure after a good start ("connection is closing" on iOS) also moves to memory.
  return (k, f) =>
    use.then((s) => s(k, f)).catch(() => {
      use = Promise.resolve(mem)
      return mem(k, f)
    })
}
