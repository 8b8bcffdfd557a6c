/**
 * Transport to `POST /v1/containers/{container}/events` (docs/protocol.md §3). The body is a string, so
 * both `fetch` and `sendBeacon` send it as `text/plain;charset=UTF-8`: a simple request, no CORS
 * preflight. Requests stay small (16 KB) because the 64 KiB keepalive budget is shared by every
 * script on the page and a request over it fails silently (snowplow PR#1359, faro#1898).
 */
import { PROTOCOL_VERSION, type BatchResult, type BrowserEvent } from '@tally/protocol/contract'
import { DEBUG, SCRIPT, SILENT, warnDrops, type Warn } from './debug.js'

/** Sent as the batch's `sdk` field; kept equal to package.json by a test. */
export const VERSION = '0.1.0'

/**
 * Events per request. Every string field is at most 64 characters (ids are checked before an
 * event is stored), so an event serialises to under 300 bytes and a request stays under 16 KB:
 * far within the protocol's 60,000 (a test checks the worst case).
 */
export const BATCH_EVENTS = 50

/** Shortest and longest retry delay. */
export const MIN_RETRY_MS = 1000
export const MAX_RETRY_MS = 300_000

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>
export type BeaconLike = (url: string, body: string) => boolean

/**
 * What became of one request: the events refused for good with their reasons (every other
 * event was accepted or is a duplicate, so the whole request may leave the outbox), or, as a
 * number, a retry: the server's Retry-After in ms, or -1 to use the backoff. t.js, which tells
 * nobody of refusals, answers 0 for done (a retry is never 0).
 */
export type Outcome = [BrowserEvent, string][] | number

/** The batch body. Ids are checked against the wire alphabet, so its length is its byte count. */
export const body = (events: BrowserEvent[]): string =>
  // biome-ignore lint/style/useTemplate: concatenation minifies shorter than a template; t.js has a gzip budget (size.test.ts)
  JSON.stringify({ v: PROTOCOL_VERSION, sentAt: Date.now(), sdk: 'tally-js/' + VERSION, events })

/** Exponential backoff with jitter: attempt 0 waits 1-2 s, doubling, never over 5 minutes. */
export const backoff = (attempt: number): number => Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** attempt * (1 + Math.random()))

/**
 * Posts `events` and classifies the answer: network errors, 408, 429 and 5xx are retried after
 * the server's Retry-After (delta-seconds; an HTTP date, `0` or a missing header, which CORS does
 * not expose, give -1: the backoff, which is the floor anyway); any other status answers for good
 * (a 4xx drops the batch with the error code as reason).
 * Builds with diagnostics also read `X-Tally-Dropped` (a 200 for a batch the collector threw
 * away, such as a bot's) and tell `warn`, when given, what the collector refused and why.
 */
export const post = (fetchFn: FetchLike, url: string, events: BrowserEvent[], warn?: Warn): Promise<Outcome> =>
  fetchFn(url, { method: 'POST', body: body(events), keepalive: true, credentials: 'omit' }).then(
    (r) => {
      const s = r.status
      // biome-ignore lint/correctness/useParseIntRadix lint/suspicious/noDoubleEquals: Retry-After is digits; a radix adds bytes; t.js has a gzip budget (size.test.ts); `==` is a byte shorter than `===` here and t.js has a gzip budget (size.test.ts)
      if (s == 408 || s == 429 || s > 499) return parseInt(r.headers.get('retry-after')!) * 1000 || -1
      // t.js has nobody to tell why (no onDrop, no diagnostics): answered for good, the batch
      // leaves. Its body is still read, or leaving the page would cancel the answer's download.
      return SILENT ? r.text().then(() => 0) : answered(r, events, warn)
    },
    () => -1,
  )

/** The events a final answer refused, with why (read from its body and headers). */
async function answered(r: Response, events: BrowserEvent[], warn?: Warn): Promise<Outcome> {
  const s = r.status
  const json = await r.json().catch(() => ({}))
  if (s < 300) {
    const thrown = DEBUG && r.headers.get('x-tally-dropped')
    if (thrown) {
      const all = events.map((e): [BrowserEvent, string] => [e, thrown])
      if (warn) warnDrops(warn, all, 'the collector dropped')
      return all
    }
    const refused = ((json as Partial<BatchResult>).rejected || []).map((x): [BrowserEvent, string] => [events[x.index]!, x.code]).filter((x) => x[0])
    if (DEBUG && warn) warnDrops(warn, refused, 'the collector refused')
    return refused
  }
  // biome-ignore lint/style/useTemplate: concatenation minifies shorter than a template; t.js has a gzip budget (size.test.ts)
  const reason = json?.error?.code || 'http_' + s
  const all = events.map((e): [BrowserEvent, string] => [e, reason])
  if (DEBUG && warn) {
    const message = json?.error?.message
    warnDrops(warn, all, `the collector answered ${s}${message ? ` "${message}"` : ''} to a batch; dropped`)
  }
  return all
}

/**
 * Hands `events` to the browser as the page goes away, chunk by chunk, through `beaconFn`
 * (default `navigator.sendBeacon`). When it refuses a chunk (its queue is full) or is missing,
 * that chunk goes by `fetch` keepalive instead.
 * Nothing is removed from the outbox here: the events are sent again on a later load.
 * `events` is emptied: pass a list of its own.
 */
export function beacon(fetchFn: FetchLike, url: string, events: BrowserEvent[], beaconFn?: BeaconLike): void {
  while (events.length) {
    const c = events.splice(0, BATCH_EVENTS)
    let ok: boolean | undefined
    try {
      ok = !SCRIPT && beaconFn ? beaconFn(url, body(c)) : navigator.sendBeacon(url, body(c))
    } catch {}
    if (!ok) post(fetchFn, url, c)
  }
}
