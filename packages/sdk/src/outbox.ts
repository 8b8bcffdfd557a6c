/**
 * The outbox: every event is stored before any send and leaves only when the collector has
 * answered for it (LESSONS: persist at enqueue time, never during pagehide). Shared by the tabs
 * of the origin; `items()` mirrors the last stored list so `pagehide` can beacon synchronously.
 * Capped: the oldest events go first, each reported, so a long offline spell cannot fill the
 * visitor's disk (analytics-next#1261).
 */
import type { BrowserEvent } from '../../protocol/src/events.js'
import type { Store } from './store.js'

export interface Outbox {
  /** The events waiting, oldest first, as last read from the store. */
  items(): BrowserEvent[]
  /** Re-reads the store (sibling tabs add and acknowledge events too). */
  load(): Promise<BrowserEvent[]>
  /** Stores `e`; resolves to the events pushed out by the cap. */
  add(e: BrowserEvent): Promise<BrowserEvent[]>
  /** Forgets the events whose ids are given. */
  remove(ids: Set<string>): Promise<unknown>
}

export function createOutbox(store: Store, cap: number): Outbox {
  let list: BrowserEvent[] = []
  const edit = async (f?: (l: BrowserEvent[]) => BrowserEvent[]) =>
    (list = (await store<BrowserEvent[]>('o', f && ((l) => f(l || [])))) || [])
  return {
    items: () => list,
    load: () => edit(),
    async add(e) {
      let dropped: BrowserEvent[] = []
      await edit((l) => {
        const next = [...l, e]
        dropped = next.splice(0, next.length - cap)
        return next
      })
      return dropped
    },
    remove: (ids) => edit((l) => l.filter((e) => !ids.has(e.id))),
  }
}
