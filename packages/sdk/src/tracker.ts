/**
 * `createTracker` (docs/protocol.md §2): wires session, dedup, outbox, transport, chat and autotrack
 * for one container. Every call is queued on one promise chain, so events are stored in call
 * order; sending runs beside it. Nothing throws after creation: bad input and refused events
 * are dropped and reported through `onDrop` (and, with `debug`, to the console).
 */
import {
  DEFAULT_SESSION_TIMEOUT_MS, ID_PATTERN, SDK_OUTBOX_CAP, type BrowserEvent, type ChatEvent,
} from '@tally/protocol/contract'
import { autotrack } from './autotrack.js'
import { createChat, type Chat } from './chat.js'
import { DEBUG, consoleWarn, warnDrops } from './debug.js'
import { randomId } from './id.js'
import { createOutbox, without } from './outbox.js'
import { createSession } from './session.js'
import { idbStore, type Store } from './store.js'
import { BATCH_EVENTS, backoff, beacon, post, type BeaconLike, type FetchLike } from './transport.js'

export interface TrackerOptions {
  /** Container id, e.g. `ctr_shop`. Required: creating a tracker without one throws. */
  container: string
  /** Collector origin, e.g. `https://collector.example`; events go to `${endpoint}/v1/containers/${container}/events`. */
  endpoint: string
  /** Minutes without activity after which a new session starts. Default 30 (also for 0 or NaN). */
  sessionTimeout?: number
  /** Track `[data-tally-campaign]` views and `[data-tally-advisor]` clicks. Default false (true for the script tag). */
  autotrack?: boolean
  /** Told about every event that will never be counted, with the reason (an error or rejection code, `outbox_full`, `invalid_event`, `bot`). */
  onDrop?: (event: BrowserEvent, reason: string) => void
  /**
   * Logs every drop, refusal and dedup skip with its reason to the console
   * (`console.warn('[tally] …')`), as `data-debug` does for the script tag. Default false.
   */
  debug?: boolean
  /** Storage; default IndexedDB database `tally-${container}`, falling back to memory. */
  store?: Store
  /** Default: the global `fetch`. */
  fetch?: FetchLike
  /** Default: `navigator.sendBeacon`. */
  sendBeacon?: BeaconLike
}

export interface Tracker {
  /** A visitor viewed campaign `id`: counted once per session. */
  impression(id: string): void
  /** A visitor opened advisor `id`: counted once per session. */
  engagement(id: string): void
  /** Starts conversation `id` with bot `opts.bot` (emits `start`, then pings every 60 s until `end`). */
  chat(id: string, opts: { bot: string }): Chat
  /** Sends now; resolves when every queued event has been acknowledged or refused. */
  flush(): Promise<void>
  /** The current session id. */
  sessionId(): string
}

/**
 * @example
 * const t = createTracker({ container: 'ctr_shop', endpoint: 'https://collector.example' })
 * t.impression('cmp_summer')
 * const c = t.chat('conv_42', { bot: 'bot_help' }); c.handoff(); c.resume(); c.end()
 * await t.flush()
 */
export function createTracker(options: TrackerOptions): Tracker {
  const { container, endpoint, onDrop } = options
  if (!valid(container)) throw Error('tally: container required')
  const url = `${endpoint.replace(/\/$/, '')}/v1/containers/${container}/events`
  // biome-ignore lint/style/useTemplate: concatenation minifies shorter than a template; t.js has a gzip budget (size.test.ts)
  const store = options.store || idbStore('tally-' + container)
  const fetchFn: FetchLike = options.fetch || ((u, i) => fetch(u, i))
  const session = createSession(store, (options.sessionTimeout || 0) * 60_000 || DEFAULT_SESSION_TIMEOUT_MS)
  const warn = DEBUG && options.debug ? consoleWarn : undefined
  const tell = (e: BrowserEvent, reason: string) => {
    try {
      onDrop?.(e, reason)
    } catch {}
  }
  // Drops decided here; the transport tells of those the collector decided.
  const drop = DEBUG
    ? (e: BrowserEvent, reason: string) => {
        if (warn) warnDrops(warn, [[e, reason]])
        tell(e, reason)
      }
    : tell
  const outbox = createOutbox(store, SDK_OUTBOX_CAP, (e) => drop(e, 'outbox_full'))

  // Events called for since the last beacon.
  let unbeaconed = false
  let chain: Promise<unknown> = session
    .touch()
    .then(() => {
      // Events left by an earlier page (perhaps beaconed, perhaps lost) are sent again.
      unbeaconed = true
      schedule(1000)
    })
    .catch(() => {})
  const run = (f: () => unknown) => (chain = chain.then(f).catch(() => {}))

  let timer: ReturnType<typeof setTimeout> | undefined
  // biome-ignore lint/correctness/noUnusedVariables: read by `sending ||=` in kick, which the rule does not count as a read
  let sending: Promise<unknown> | undefined
  let attempt = 0
  const waiters: (() => void)[] = []
  const schedule = (ms: number) => {
    timer ||= setTimeout(kick, ms)
  }
  const kick = () => {
    clearTimeout(timer)
    timer = undefined
    // Tabs of one origin may send the same stored event at once: the id makes that harmless.
    sending ||= loop().catch(() => {})
  }
  // One batch at a time until the outbox is empty or the collector cannot be reached.
  // `sending` is cleared in the same turn as the waiters are answered: a flush arriving in
  // between would otherwise find a loop that has already finished and wait forever.
  const loop = async () => {
    try {
      let list = await outbox.load()
      while (list.length) {
        const batch = list.slice(0, BATCH_EVENTS)
        const r = await post(fetchFn, url, batch, warn)
        if (typeof r === 'number') {
          clearTimeout(timer)
          // Retry-After is a floor, not a replacement: a collector answering every 503 with
          // "1" must not have every open tab retry each second for the whole outage.
          timer = setTimeout(kick, Math.max(r, backoff(attempt)))
          attempt++
          return
        }
        attempt = 0
        await outbox.remove(batch)
        for (const [e, why] of r) tell(e, why)
        list = outbox.items()
      }
      // biome-ignore lint/suspicious/useIterableCallbackReturn: a waiter returns nothing; a block or for-of costs bytes: t.js has a gzip budget (size.test.ts)
      waiters.splice(0).forEach((f) => f())
    } finally {
      sending = undefined
    }
  }

  // biome-ignore lint/style/useTemplate: concatenation minifies shorter than a template; t.js has a gzip budget (size.test.ts)
  const impression = (id: string) => track('impression', { campaign: id }, 'i:' + id)
  // biome-ignore lint/style/useTemplate: concatenation minifies shorter than a template; t.js has a gzip budget (size.test.ts)
  const engagement = (id: string) => track('engagement', { advisor: id }, 'e:' + id)
  // Events called for but not stored yet (the session and its dedup are read first). A page that
  // closes meanwhile, a click on a link, beacons them too, with the session as last known: the
  // collector applies dedup again.
  const pending = new Set<BrowserEvent>()
  const track = (type: BrowserEvent['type'], fields: Record<string, string>, key?: string) => {
    const e = { id: randomId(), type, session: session.id(), ts: Date.now(), ...fields } as BrowserEvent
    if (!Object.values(fields).every(valid)) return drop(e, 'invalid_event')
    pending.add(e)
    unbeaconed = true
    run(async () => {
      try {
        const s = await session.touch(key)
        if (!s) {
          if (DEBUG && warn) warn(`skipped ${type} ${Object.values(fields)[0]}: already counted in session ${session.id()}`, [e])
          return
        }
        e.session = s
        await outbox.add(e)
        schedule(1000)
      } finally {
        pending.delete(e)
      }
    })
  }

  if (typeof document === 'object') {
    const hide = () => {
      if (unbeaconed) {
        unbeaconed = false
        const l = outbox.items()
        beacon(options.sendBeacon, fetchFn, url, [...l, ...without([...pending], l)])
      }
    }
    addEventListener('pagehide', hide)
    // biome-ignore lint/suspicious/noDoubleEquals: both strings; `==` is a byte shorter and t.js has a gzip budget (size.test.ts)
    document.addEventListener('visibilitychange', () => document.visibilityState == 'hidden' && hide())
    addEventListener('online', () => {
      attempt = 0
      kick()
    })
    if (options.autotrack) autotrack(impression, engagement)
  }

  return {
    impression,
    engagement,
    chat: (id, opts) => createChat((phase) => track('chat', { conversation: id, bot: opts?.bot, phase } as Partial<ChatEvent> as Record<string, string>)),
    flush: () => run(() => {}).then(() => new Promise<void>((resolve) => {
      waiters.push(resolve)
      kick()
    })),
    sessionId: session.id,
  }
}

const valid = (v: unknown): v is string => typeof v === 'string' && ID_PATTERN.test(v)
