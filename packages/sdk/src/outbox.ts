/**
 * The outbox: every event is stored before any send and leaves only when the collector has
 * answered for it (docs/lessons.md: persist at enqueue time, never during pagehide). Shared by the tabs
 * of the origin, under the store's key `o`. Capped: the oldest events go first, each reported,
 * so a long offline spell cannot fill the visitor's disk (analytics-next#1261).
 * The tracker keeps a mirror of the last stored list so `pagehide` can beacon synchronously; here
 * are the edits it stores (plain functions: a factory's object cost t.js about 50 bytes gzipped).
 */
import type { BrowserEvent } from '@tally/protocol/contract'
import { SILENT } from './debug.js'

/** A change to the stored list. */
export type Edit = (list: BrowserEvent[] | undefined) => BrowserEvent[]

/**
 * The store's key for the outbox: `store(OUTBOX, f)` applies an edit in one atomic update,
 * `store(OUTBOX)` re-reads it (sibling tabs add and acknowledge events too). An edit is given
 * `undefined` when nothing was ever stored.
 */
export const OUTBOX = 'o'

/** Adds `e`, pushing the oldest events out past `cap` (each told to `onFull`; t.js tells nobody). */
export const adding =
  (e: BrowserEvent, cap: number, onFull: (e: BrowserEvent) => unknown): Edit =>
  (l) => {
    const next = [...(l || []), e]
    // t.js has nobody to tell: it only keeps the newest `cap`.
    if (SILENT) return next.slice(-cap)
    next.splice(0, next.length - cap).forEach(onFull)
    return next
  }

/** The events of `list` that are not among `events`, compared by id. */
export const without = (list: BrowserEvent[], events: BrowserEvent[]): BrowserEvent[] =>
  // biome-ignore lint/suspicious/noDoubleEquals: both ids are strings; `==` is a byte shorter and t.js has a gzip budget (size.test.ts)
  list.filter((e) => !events.some((x) => x.id == e.id))
