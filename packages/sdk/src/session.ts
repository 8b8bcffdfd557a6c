/**
 * The browser session and its dedup memory (docs/rules.md §3): one session per container and storage
 * origin, shared by its tabs, renewed after `timeoutMs` without activity. The record holds the
 * keys already counted in the session ("impressioncmp_x", "engagementadv_y"), so a reload or a second tab sends
 * nothing new. Every decision re-reads the stored record inside one atomic update, so a sibling
 * tab's fresher activity is seen before this tab calls the session expired (posthog-js#5036).
 */
import type { Store } from './store.js'
import { randomId, timePart } from './id.js'

interface SessionRecord {
  id: string
  /** Last activity, ms since epoch. */
  last: number
  /** Dedup keys counted in this session. */
  seen: string[]
}

export interface Session {
  /** The current id: provisional until the stored session has been read. */
  id(): string
  /**
   * Records activity (renewing an expired session) and, when `key` is given, claims it.
   * Resolves to the session id, or to `undefined` when `key` was already counted in the session.
   */
  touch(key?: string): Promise<string | undefined>
}

/**
 * `s_`, the time (id.ts) and a random id: up to 50 characters, so a batch of 50 events stays under 16 KB
 * (transport.ts). Sessions sort by when they began, so the collector's unit keys (container,
 * session, subject) of the sessions active now sit together at the end of its index: a random
 * first part made every stored impression touch a page of its own, and cost the collector's
 * writer twice the time a beacon (docs/performance.md, "Ids as the SDK makes them"). Nothing
 * trusts the time: the collector dates events by their own `ts`.
 */
// biome-ignore lint/style/useTemplate: concatenation minifies shorter than a template; t.js has a gzip budget (size.test.ts)
const newId = () => 's_' + timePart() + randomId()

export function createSession(store: Store, timeoutMs: number): Session {
  let current = newId()
  return {
    id: () => current,
    async touch(key) {
      let fresh: boolean | undefined
      await store<SessionRecord>('s', (r) => {
        const now = Date.now()
        if (!r || now - r.last >= timeoutMs) {
          // With nothing stored, the provisional id was never used and may start the session;
          // a renewal needs a new one (the collector dedups impressions by session id).
          r = { id: r ? newId() : current, last: now, seen: [] }
        }
        // No key: always fresh (`includes(undefined)` is false), nothing claimed.
        fresh = !r.seen.includes(key!)
        if (fresh && key) r.seen.push(key)
        r.last = now
        current = r.id
        return r
      })
      return fresh ? current : undefined
    },
  }
}
