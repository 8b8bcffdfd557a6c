/** A tracker over a fake collector, and its outbox, for the tracker tests (tracker*.test.ts). */
import type { BrowserEvent } from '@tally/protocol/contract'
import { createTracker, type TrackerOptions } from './tracker.js'
import { memoryStore, type Store } from './store.js'
import { fakeCollector, type Reply } from './testing/collector.js'

export const MIN = 60_000

export function setup(script: (Reply | Error)[] = [], options: Partial<TrackerOptions> = {}) {
  const collector = fakeCollector(script)
  const drops: [BrowserEvent, string][] = []
  const store = options.store ?? memoryStore()
  const make = (more: Partial<TrackerOptions> = {}) =>
    createTracker({
      container: 'ctr_shop',
      endpoint: 'https://collector.test',
      store,
      fetch: collector.fetch,
      sendBeacon: collector.sendBeacon,
      onDrop: (e, reason) => drops.push([e, reason]),
      ...options,
      ...more,
    })
  return { collector, drops, store, make, tracker: make() }
}

/** Events kept in a store's outbox. */
export const outbox = async (store: Store) => (await store<BrowserEvent[]>('o')) ?? []
