/**
 * A stand-in collector for unit tests: a `fetch` that records every request and answers from a
 * script (status, body, headers, or a network error), and a `sendBeacon` that records too.
 */
import type { Batch, BrowserEvent } from '@tally/protocol/contract'

export interface Reply {
  status?: number
  body?: unknown
  headers?: Record<string, string>
}

export interface Sent {
  url: string
  init: RequestInit
  batch: Batch
  bytes: number
  /** Date.now() when it was sent (fake timers travel). */
  at: number
}

export function fakeCollector(script: (Reply | Error)[] = []) {
  const sent: Sent[] = []
  const beacons: Sent[] = []
  let beaconAnswer = true
  const record = (url: string, body: string, init: RequestInit = {}): Sent => ({
    url,
    init,
    batch: JSON.parse(body) as Batch,
    bytes: Buffer.byteLength(body),
    at: Date.now(),
  })
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    sent.push(record(url, String(init.body), init))
    const next = script.shift() ?? {}
    if (next instanceof Error) throw next
    const status = next.status ?? 200
    const body = next.body ?? (status < 300 ? { accepted: 0, duplicates: 0, rejected: [] } : {})
    // A plain object: a real Response reads its body through streams, which fake timers stall.
    return { status, ok: status < 300, headers: new Headers(next.headers ?? {}), json: async () => body, text: async () => JSON.stringify(body) } as Response
  }
  const sendBeacon = (url: string, body: string) => {
    beacons.push(record(url, body))
    return beaconAnswer
  }
  return {
    fetch,
    sendBeacon,
    sent,
    beacons,
    /** Makes the next sendBeacon calls answer `ok` (false: the browser's queue is full). */
    beaconAnswers(ok: boolean) {
      beaconAnswer = ok
    },
    /** Every event the collector received by fetch, in order. */
    events: (): BrowserEvent[] => sent.flatMap((s) => s.batch.events),
    /** Adds answers to the script. */
    reply: (...r: (Reply | Error)[]) => script.push(...r),
  }
}

/** Lets the promise chains settle: microtasks, plus fake-indexeddb's setImmediate tasks. */
export async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r))
}
