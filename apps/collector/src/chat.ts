/**
 * Chat conversations folded from their phase events (seed 001, SPEC §3).
 *
 * Bot time runs from `start` (or `resume`) to the next event, stops at `handoff` (a human agent
 * took over) until `resume`, and ends at `end`. A conversation without an `end` is closed at its
 * last event once idle (the sweeper), so its bot time is the time up to that event, which is what
 * the fold computes at any moment: closing changes its status, never its sessions. The fold sorts the events first,
 * so any arrival order, and any repeated phase event, gives the same result: the store simply
 * recomputes a conversation from all of its stored phase events after each change.
 */
import { CHAT_IDLE_MS, CHAT_UNIT_MS, type ChatPhase } from '@tally/protocol'

export interface PhaseEvent {
  id: string
  phase: ChatPhase
  /** Clock-skew corrected time, ms since epoch. */
  time: number
}

export interface FoldedConversation {
  startedAt: number
  /** Time of the last event that counts (the `end` event when there is one). */
  lastEventAt: number
  endedAt: number | null
  botMs: number
  sessions: number
}

export type ConversationStatus = 'open' | 'ended' | 'idle'

/** At one instant, a conversation starts or resumes before it pings, hands off or ends. */
const RANK: Record<ChatPhase, number> = { start: 0, resume: 1, ping: 2, handoff: 3, end: 4 }

/** Chat usage sessions for an amount of bot time: one per started 15 minutes. */
export const chatSessions = (botMs: number): number => (botMs > 0 ? Math.ceil(botMs / CHAT_UNIT_MS) : 0)

/**
 * Folds the phase events of one conversation.
 * @example foldConversation([{ id: 'a', phase: 'start', time: 0 }, { id: 'b', phase: 'end', time: 31 * 60_000 }]).sessions // 3
 */
export function foldConversation(events: readonly PhaseEvent[]): FoldedConversation {
  if (events.length === 0) throw new RangeError('a conversation has at least one event')
  const sorted = [...events].sort((a, b) => a.time - b.time || RANK[a.phase] - RANK[b.phase] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  let active = false
  let prev: number | null = null
  let botMs = 0
  let endedAt: number | null = null
  for (const e of sorted) {
    // Idle for over 30 minutes, the conversation ended at its previous event (SPEC §3): a ping
    // from a tab the browser froze and woke hours later must not bill the hours in between.
    // An explicit `end` still closes it where it says (a start and an end alone, pings lost).
    if (prev !== null && e.phase !== 'end' && e.time - prev > CHAT_IDLE_MS) break
    if (prev !== null && active) botMs += e.time - prev
    switch (e.phase) {
      case 'start':
      case 'resume':
        active = true
        break
      case 'handoff':
        active = false
        break
      case 'ping':
        // A conversation whose start event was lost is a bot conversation from its first ping.
        if (prev === null) active = true
        break
      case 'end':
        endedAt = e.time
        break
    }
    prev = e.time
    // Whatever follows an end (a late ping from another tab), or an idle gap, belongs to no conversation.
    if (endedAt !== null) break
  }
  const first = sorted[0] as PhaseEvent
  return { startedAt: first.time, lastEventAt: prev ?? first.time, endedAt, botMs, sessions: chatSessions(botMs) }
}

/** `ended` after an end event, `idle` once nothing happened for the idle limit, else `open`. */
export function conversationStatus(c: FoldedConversation, now: number, idleMs = CHAT_IDLE_MS): ConversationStatus {
  if (c.endedAt !== null) return 'ended'
  return now - c.lastEventAt > idleMs ? 'idle' : 'open'
}
