/**
 * @tally/sdk — browser SDK for chat widgets and bundlers. The script tag (`t.js`) is built from
 * `script.ts` on top of the same tracker.
 *
 * Here `chat` may be called without an id: the SDK then gives the conversation an id of the
 * time (id.ts) and 128 random bits. A conversation belongs to the visitor session that opened it
 * (docs/security.md), so a guessable id (`conv_42`) can be taken by a stranger who names it
 * first; a random one cannot.
 * (The script tag's `t.js` has no room for this in its size budget: pass it a random id.)
 */
import { createTracker as createBase, type Tracker as BaseTracker, type TrackerOptions } from './tracker.js'
import { randomId, timePart } from './id.js'
import type { Chat } from './chat.js'

/** A conversation, with the id it was given (the vendor's, or the SDK's random one). */
export type ChatHandle = Chat & { readonly id: string }

export interface Tracker extends Omit<BaseTracker, 'chat'> {
  /**
   * Starts a conversation with bot `opts.bot` (emits `start`, then pings every 60 s until `end`).
   * Without an id the SDK draws a random one (recommended); a vendor's own id must be as hard to guess.
   */
  chat(opts: { bot: string }): ChatHandle
  chat(id: string | undefined, opts: { bot: string }): ChatHandle
}

/**
 * @example
 * const t = createTracker({ container: 'ctr_shop', endpoint: 'https://collector.example' })
 * const c = t.chat({ bot: 'bot_help' }) // a random conversation id: c.id
 * c.handoff(); c.resume(); c.end()
 */
export function createTracker(options: TrackerOptions): Tracker {
  const t = createBase(options)
  return {
    ...t,
    chat(idOrOpts: string | undefined | { bot: string }, more?: { bot: string }): ChatHandle {
      const [given, opts] = typeof idOrOpts === 'object' && idOrOpts ? [undefined, idOrOpts] : [idOrOpts, more as { bot: string }]
      const id = given || timePart() + randomId()
      return { ...t.chat(id, opts), id }
    },
  }
}

export { memoryStore, idbStore } from './store.js'
export type { TrackerOptions } from './tracker.js'
export type { Chat } from './chat.js'
export type { Store } from './store.js'
export type { FetchLike, BeaconLike } from './transport.js'
export type { BrowserEvent } from '@tally/protocol/contract'
