/**
 * Storage behind the session, dedup memory and outbox. IndexedDB (through idb-keyval) so every
 * tab of the origin shares it; memory when IndexedDB is missing, throws or hangs, so the SDK
 * keeps working in private modes and broken browsers (idb-keyval#32, #120).
 */
import { createStore, promisifyRequest } from 'idb-keyval'

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
  const m = new Map<string, any>()
  return async (k, f) => {
    if (f) m.set(k, f(m.get(k)))
    return m.get(k)
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
    const timer = setTimeout(fallback, OPEN_TIMEOUT_MS)
    try {
      const u = createStore(name, 'kv')
      // idb-keyval's own get/update would also bundle its default store; this takes `u` only.
      const idb: Store = (k, f) =>
        u(f ? 'readwrite' : 'readonly', (s) => {
          let v: any
          const r = s.get(k)
          r.onsuccess = () => {
            v = r.result
            if (f) s.put((v = f(v)), k)
          }
          return promisifyRequest(s.transaction).then(() => v)
        })
      idb('s').then(() => resolve(idb), fallback).finally(() => clearTimeout(timer))
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
