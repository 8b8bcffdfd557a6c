/**
 * `createTracker` (docs/protocol.md §2): wires session, dedup, outbox, transport, chat and autotrack
 * for one container. Every call is queued on one promise chain, so events are stored in call
 * order; sending runs beside it. Nothing throws after creation: bad input and refused events
 * are dropped and reported through `onDrop` (and, with `debug`, to the console).
 */
import { DEFAULT_SESSION_TIMEOUT_MS, ID_PATTERN, SDK_OUTBOX_CAP, type BrowserEvent, type ChatEvent } from '@tally/protocol/contract'
import { autotrack } from './autotrack.js'
import { createChat, type Chat } from './chat.js'
import { DEBUG, SCRIPT, SILENT, consoleWarn, warnDrops } from './debug.js'
import { randomId } from './id.js'
import { OUTBOX, adding, without, type Edit } from './outbox.js'
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
  // t.js does not check: a tag without a valid data-container has its events refused by the
  // collector (403), which t.debug.js would have thrown about at once (docs/sdk.md, Debug).
  if (!SILENT && !valid(container)) throw Error('tally: container required')
  const url = `${endpoint.replace(/\/$/, '')}/v1/containers/${container}/events`
  // biome-ignore lint/style/useTemplate: concatenation minifies shorter than a template; t.js has a gzip budget (size.test.ts)
  const store = (!SCRIPT && options.store) || idbStore('tally-' + container)
  // The global itself in t.js (a WebIDL operation called without `this` runs on the global).
  // Elsewhere an async wrapper: a given fetch that throws at once still gives a rejection (a
  // retry), and a test's later stub of the global is seen.
  const fetchFn: FetchLike = SCRIPT ? fetch : async (u, i) => (options.fetch || fetch)(u, i)
  // Missing, 0 or NaN (a bad `data-session-timeout`) all give the default.
  const session = createSession(store, options.sessionTimeout! * 60_000 || DEFAULT_SESSION_TIMEOUT_MS)
  const warn = DEBUG && options.debug ? consoleWarn : undefined
  const tell = (e: BrowserEvent, reason: string) => {
    if (!SCRIPT) {
      try {
        onDrop?.(e, reason)
      } catch {}
    }
  }
  // Drops decided here; the transport tells of those the collector decided.
  const drop = DEBUG
    ? (e: BrowserEvent, reason: string) => {
        if (warn) warnDrops(warn, [[e, reason]])
        tell(e, reason)
      }
    : tell
  // The outbox (outbox.ts) as last stored: `pagehide` beacons it without waiting.
  let stored: BrowserEvent[] = []
  const outbox = async (f?: Edit) => (stored = (await store<BrowserEvent[]>(OUTBOX, f)) || [])
  const full = (e: BrowserEvent) => drop(e, 'outbox_full')

  // Events called for since the last beacon.
  let unbeaconed = false
  let chain: Promise<unknown> = session.touch()
  const run = (f: () => unknown) => (chain = chain.then(f).catch(() => {}))
  // Events left by an earlier page (perhaps beaconed, perhaps lost) are sent again.
  run(() => {
    unbeaconed = true
    schedule()
  })

  let timer: ReturnType<typeof setTimeout> | undefined
  // biome-ignore lint/correctness/noUnusedVariables: read by `sending ||=` in kick, which the rule does not count as a read
  let sending: Promise<unknown> | undefined
  let attempt = 0
  const waiters: (() => void)[] = []
  // A flush runs within 1 s of the first event queued since the last one.
  const schedule = () => {
    timer ||= setTimeout(kick, 1000)
  }
  const kick = () => {
    timer = clearTimeout(timer) as undefined
    // Tabs of one origin may send the same stored event at once: the id makes that harmless.
    sending ||= loop().catch(() => {})
  }
  // One batch at a time until the outbox is empty or the collector cannot be reached.
  // `sending` is cleared in the same turn as the waiters are answered: a flush arriving in
  // between would otherwise find a loop that has already finished and wait forever.
  const loop = async () => {
    try {
      for (await outbox(); stored.length; ) {
        const batch = stored.slice(0, BATCH_EVENTS)
        const r = await post(fetchFn, url, batch, warn)
        // biome-ignore lint/suspicious/noDoubleEquals: `==` is a byte shorter than `===` here and t.js has a gzip budget (size.test.ts)
        if (SILENT ? r : typeof r == 'number') {
          clearTimeout(timer)
          // Retry-After is a floor, not a replacement: a collector answering every 503 with
          // "1" must not have every open tab retry each second for the whole outage.
          timer = setTimeout(kick, Math.max(r as number, backoff(attempt++)))
          return
        }
        attempt = 0
        await outbox((l) => without(l || [], batch))
        if (!SILENT) for (const [e, why] of r as [BrowserEvent, string][]) tell(e, why)
      }
      // biome-ignore lint/suspicious/useIterableCallbackReturn: a waiter returns nothing; a block or for-of costs bytes: t.js has a gzip budget (size.test.ts)
      waiters.splice(0).forEach((f) => f())
    } finally {
      sending = undefined
    }
  }

  const impression = (id: string) => track('impression', { campaign: id }, id)
  const engagement = (id: string) => track('engagement', { advisor: id }, id)
  // Events called for but not stored yet (the session and its dedup are read first). A page that
  // closes meanwhile, a click on a link, beacons them too, with the session as last known: the
  // collector applies dedup again.
  const pending = new Set<BrowserEvent>()
  // `key`: the id counted once per session, claimed as the type and the id ("impressioncmp_x":
  // the two types are as long and differ, so no campaign's key is an advisor's); chat has none.
  const track = (type: BrowserEvent['type'], fields: Record<string, string>, key?: string) => {
    const e = { id: randomId(), type, session: session.id(), ts: Date.now(), ...fields } as BrowserEvent
    if (!Object.values(fields).every(valid)) {
      if (!SILENT) drop(e, 'invalid_event')
      return
    }
    pending.add(e)
    unbeaconed = true
    run(async () => {
      try {
        const s = await session.touch(key && type + key)
        if (!s) {
          if (DEBUG && warn) warn(`skipped ${type} ${Object.values(fields)[0]}: already counted in session ${session.id()}`, [e])
          return
        }
        e.session = s
        await outbox(adding(e, SDK_OUTBOX_CAP, full))
        schedule()
      } finally {
        pending.delete(e)
      }
    })
  }

  // biome-ignore lint/suspicious/noDoubleEquals: `==` is a byte shorter than `===` here and t.js has a gzip budget (size.test.ts)
  if (SCRIPT || typeof document == 'object') {
    const hide = () => {
      if (unbeaconed) {
        unbeaconed = false
        beacon(fetchFn, url, [...stored, ...without([...pending], stored)], SCRIPT ? undefined : options.sendBeacon)
      }
    }
    addEventListener('pagehide', hide)
    document.addEventListener('visibilitychange', () => document.hidden && hide())
    addEventListener('online', () => {
      attempt = 0
      kick()
    })
    // The script tag passes its `data-autotrack` attribute as it is: on unless "false".
    // biome-ignore lint/suspicious/noDoubleEquals: `==` is a byte shorter than `===` here and t.js has a gzip budget (size.test.ts)
    if (SCRIPT ? (options.autotrack as unknown) != 'false' : options.autotrack) autotrack(impression, engagement)
  }

  return {
    impression,
    engagement,
    chat: (id, opts) => createChat((phase) => track('chat', { conversation: id, bot: opts?.bot, phase } as Partial<ChatEvent> as Record<string, string>)),
    // In line behind every event called for before it, so those are stored when it kicks.
    flush: () =>
      new Promise<void>((resolve) => {
        run(() => {
          waiters.push(resolve)
          kick()
        })
      }),
    sessionId: session.id,
  }
}

// biome-ignore lint/suspicious/noDoubleEquals: `==` is a byte shorter than `===` here and t.js has a gzip budget (size.test.ts)
const valid = (v: unknown): v is string => typeof v == 'string' && ID_PATTERN.test(v)
