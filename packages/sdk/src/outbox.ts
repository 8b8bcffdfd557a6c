/**
 * The outbox: every event is stored before any send and leaves only when the collector has
 * answered for it (docs/lessons.md: persist at enqueue time, never during pagehide). Shared by the tabs
 * of the origin; `items()` mirrors the last stored list so `pagehide` can beacon synchronously.
 * Capped: the oldest events go first, each reported, so a long offline spell cannot fill the
 * visitor's disk (analytics-next#1261).
 */
import type { BrowserEvent } from '@tally/protocol/contract'
import type { Store } from './store.js'

export interface Outbox {
  /** The events waiting, oldest first, as last read from the store. */
  items(): BrowserEvent[]
  /** Re-reads the store (sibling tabs add and acknowledge events too). */
  load(): Promise<BrowserEvent[]>
  /** Stores `e`, pushing the oldest events out past the cap (each told to `onFull`). */
  add(e: BrowserEvent): Promise<unknown>
  /** Forgets `events` (by id). */
  remove(events: BrowserEvent[]): Promise<unknown>
}

/** The events of `list` that are not among `events`, compared by id. */
export const without = (list: BrowserEvent[], events: BrowserEvent[]): BrowserEvent[] =>
  // biome-ignore lint/suspicious/noDoubleEquals: both ids are strings; `==` is a byte shorter and t.js has a gzip budget (size.test.ts)
  list.filter((e) => !events.some((x) => x.id == e.id))

export function createOutbox(store: Store, cap: number, onFull: (e: BrowserEvent) => void): Outbox {
  let list: BrowserEvent[] = []
  const edit = async (f?: (l: BrowserEvent[]) => BrowserEvent[]) =>
    (list = (await store<BrowserEvent[]>('o', f && ((l) => f(l || [])))) || [])
  return {
    items: () => list,
    load: () => edit(),
    add: (e) =>
      edit((l) => {
        const next = [...l, e]
        next.splice(0, next.length - cap).forEach(onFull)
        return next
      }),
    remove: (events) => edit((l) => without(l, events)),
  }
}
