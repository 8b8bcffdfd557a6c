/**
 * @tally/sdk — browser SDK for chat widgets and bundlers. The script tag (`t.js`) is built from
 * `script.ts` on top of the same tracker.
 */
export { createTracker } from './tracker.js'
export { memoryStore, idbStore } from './store.js'
export type { Tracker, TrackerOptions } from './tracker.js'
export type { Chat } from './chat.js'
export type { Store } from './store.js'
export type { FetchLike, BeaconLike } from './transport.js'
export type { BrowserEvent } from '@tally/protocol/contract'
