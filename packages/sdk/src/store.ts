/**
 * Storage behind the session, dedup memory and outbox. IndexedDB (the database and store
 * idb-keyval's `createStore` makes, opened here with its `promisifyRequest`) so every tab of the
 * origin shares it; memory when IndexedDB is missing, throws or hangs, so the SDK keeps working
 * in private modes and broken browsers (idb-keyval#32, #120).
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
  // biome-ignore lint/suspicious/noExplicitAny: an IndexedDB request or transaction alike: one untyped handle is the shortest; t.js has a gzip budget (size.test.ts)
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
 * memory for good when opening it fails or takes over 1.5 s, or when a later call fails.
 */
export function idbStore(name: string): Store {
  const mem = memoryStore()
  // An async function turns a throwing `indexedDB.open` (missing, private mode) into a rejection.
  // Database `name`, object store `kv`. A closed connection is not reopened: the failure falls to
  // memory.
  const db = (async () => {
    const open = indexedDB.open(name)
    open.onupgradeneeded = () => open.result.createObjectStore('kv')
    return promisifyRequest(open)
  })()
  // Every transaction is readwrite: a read then waits for a sibling tab's update, no more.
  const idb: Store = (k, f) =>
    db.then((db) => {
      const t = db.transaction('kv', 'readwrite')
      const s = t.objectStore('kv')
      const r = s.get(k)
      // biome-ignore lint/suspicious/noExplicitAny: an IndexedDB request or transaction alike: one untyped handle is the shortest; t.js has a gzip budget (size.test.ts)
      let v: any
      r.onsuccess = () => {
        v = r.result
        // biome-ignore lint/suspicious/noAssignInExpressions: the assignment in place minifies shorter; t.js has a gzip budget (size.test.ts)
        if (f) s.put((v = f(v)), k)
      }
      return promisifyRequest(t).then(() => v)
    })
  // Whichever of the open and the timer comes first wins: resolving twice does nothing.
  let use: Promise<Store> = new Promise((resolve) => {
    setTimeout(resolve, OPEN_TIMEOUT_MS, mem)
    db.then(
      () => resolve(idb),
      () => resolve(mem),
    )
  })
  // A failure after a good start ("connection is closing" on iOS) also moves to memory.
  return (k, f) =>
    use
      .then((s) => s(k, f))
      .catch(() => {
        use = Promise.resolve(mem)
        return mem(k, f)
      })
}
