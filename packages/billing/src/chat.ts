/**
 * Chat conversations: bot time and chat usage sessions, the one implementation of the rule
 * (docs/rules.md, "Chat sessions"; seed 001). The collector folds each conversation as its events
 * arrive, the reference roll-up in meters.ts folds a whole log, and both call this file.
 *
 * - Bot time runs from `start` (or `resume`, or a first `ping` whose `start` was lost) to the next
 *   event, stops at `handoff` (a human agent took over) until `resume`, and ends at `end`.
 * - A conversation ends at its `end` event, or at its last event once idle for CHAT_IDLE_MS: what
 *   arrives after such a gap (a ping or an `end` from a tab the browser froze for hours) adds
 *   nothing, so it can never bill the hours in between.
 * - Only witnessed time is billable: the bot time billed never exceeds the span between the first
 *   and the last receipt of the conversation's events plus CHAT_WITNESS_TOLERANCE_MS, so a client
 *   that forges both `ts` and `sentAt` cannot bill hours in one request.
 * - `sessions = ceil(billable bot time / 15 minutes)`.
 *
 * The fold is a left fold over the events in (time, phase rank, id) order. `stepConversation`
 * applies one more event to a folded state when it comes after every event already folded, so
 * the collector's work per request does not grow with the conversation; an event that arrives
 * out of order is folded from the stored state of the event before it (`foldSteps`), so only the
 * events after it are folded again (at most CHAT_REORDER_EVENTS: docs/security.md).
 * Either way the result is the fold of the sorted events: any arrival order, any batching and any
 * repeated event give the same sessions.
 */
import { CHAT_IDLE_MS, CHAT_UNIT_MS, CHAT_WITNESS_TOLERANCE_MS, type ChatPhase } from '@tally/protocol'

/** One event of a conversation. */
export interface PhaseEvent {
  id: string
  phase: ChatPhase
  /** Clock-skew corrected event time, ms since the epoch. */
  time: number
  /** When the collector received it, ms since the epoch. */
  receivedAt: number
}

/** A conversation folded so far. Plain data: stored as it is and folded further later. */
export interface ConversationState {
  /** Time of the first event. */
  startedAt: number
  /** Time of the last event that counts (the `end` when there is one). */
  lastEventAt: number
  /** Time of the latest event folded, counted or not: a later event can be applied in order. */
  latestAt: number
  endedAt: number | null
  /** Ended by `end` or by an idle gap: nothing that follows counts. */
  closed: boolean
  /** The bot is talking (not handed off). */
  active: boolean
  /** Bot time as the events tell it. */
  botMs: number
  /** First and last receipt of the events that count. */
  firstReceivedAt: number
  lastReceivedAt: number
  /** Events folded (the stored events of the conversation). */
  events: number
}

export type ConversationStatus = 'open' | 'ended' | 'idle'

/** At one instant, a conversation starts or resumes before it pings, hands off or ends. */
const RANK: Record<ChatPhase, number> = { start: 0, resume: 1, ping: 2, handoff: 3, end: 4 }

/** The order of the fold. */
export function comparePhaseEvents(a: PhaseEvent, b: PhaseEvent): number {
  return a.time - b.time || RANK[a.phase] - RANK[b.phase] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/**
 * Chat usage sessions for an amount of bot time: one per started 15 minutes. Seed 001: "If a user
 * converses with the bot for 31 minutes, then it would be counted as 3 sessions".
 * @example chatSessions(31 * 60_000) // 3
 */
export function chatSessions(botMs: number): number {
  return botMs > 0 ? Math.ceil(botMs / CHAT_UNIT_MS) : 0
}

/** The bot time that is billed: what the events tell, bounded by what the collector witnessed. */
export function billableBotMs(s: ConversationState): number {
  const witnessed = Math.max(0, s.lastReceivedAt - s.firstReceivedAt) + CHAT_WITNESS_TOLERANCE_MS
  return Math.min(s.botMs, witnessed)
}

/** The chat usage sessions a folded conversation bills. */
export function conversationSessions(s: ConversationState): number {
  return chatSessions(billableBotMs(s))
}

/** True when `e` can be folded onto `s` with `stepConversation` (it comes after every folded event). */
export function inOrder(s: ConversationState, e: PhaseEvent): boolean {
  return e.time > s.latestAt
}

/** The state of a conversation whose first event is `e`. */
function first(e: PhaseEvent): ConversationState {
  const end = e.phase === 'end'
  return {
    startedAt: e.time,
    lastEventAt: e.time,
    latestAt: e.time,
    endedAt: end ? e.time : null,
    closed: end,
    // A conversation whose `start` was lost is a bot conversation from its first event.
    active: e.phase !== 'handoff' && !end,
    botMs: 0,
    firstReceivedAt: e.receivedAt,
    lastReceivedAt: e.receivedAt,
    events: 1,
  }
}

/**
 * Folds one more event onto a conversation. `e` must sort after every event folded so far
 * (see `inOrder`); `state` is not changed.
 */
export function stepConversation(state: ConversationState | null, e: PhaseEvent): ConversationState {
  if (state === null) return first(e)
  const s: ConversationState = { ...state, events: state.events + 1, latestAt: Math.max(state.latestAt, e.time) }
  if (s.closed) return s
  if (e.time - s.lastEventAt > CHAT_IDLE_MS) {
    // Idle for too long: the conversation ended at its last event, whatever this one says.
    s.closed = true
    return s
  }
  if (s.active) s.botMs += e.time - s.lastEventAt
  switch (e.phase) {
    case 'start':
    case 'resume':
      s.active = true
      break
    case 'handoff':
      s.active = false
      break
    case 'end':
      s.endedAt = e.time
      s.closed = true
      break
    case 'ping':
      break
  }
  s.lastEventAt = e.time
  s.firstReceivedAt = Math.min(s.firstReceivedAt, e.receivedAt)
  s.lastReceivedAt = Math.max(s.lastReceivedAt, e.receivedAt)
  return s
}

/**
 * Folds every event of a conversation, in any order and with repeats (the same id counts once).
 * @example foldConversation([{ id: 'a', phase: 'start', time: 0, receivedAt: 0 }, { id: 'b', phase: 'end', time: 31 * 60_000, receivedAt: 31 * 60_000 }]).botMs // 1_860_000
 */
export function foldConversation(events: readonly PhaseEvent[]): ConversationState {
  if (events.length === 0) throw new RangeError('a conversation has at least one event')
  const seen = new Set<string>()
  let s: ConversationState | null = null
  for (const e of [...events].sort(comparePhaseEvents)) {
    if (seen.has(e.id)) continue
    seen.add(e.id)
    s = stepConversation(s, e)
  }
  return s as ConversationState
}

/**
 * Folds new events onto a stored state: in order, one step each; when one of them comes before an
 * event already folded, `reload` gives every stored event of the conversation (the new ones
 * included) and the whole conversation is folded again.
 */
export async function foldMore(
  state: ConversationState | null,
  added: readonly PhaseEvent[],
  reload: () => Promise<readonly PhaseEvent[]>,
): Promise<ConversationState> {
  let s = state
  for (const e of [...added].sort(comparePhaseEvents)) {
    if (s !== null && !inOrder(s, e)) return foldConversation(await reload())
    s = stepConversation(s, e)
  }
  if (s === null) throw new RangeError('a conversation has at least one event')
  return s
}

/**
 * The state after each of `events` (already in fold order, see `comparePhaseEvents`), folded onto
 * `base` (the state after the event just before them, or null at the conversation's start). The
 * collector keeps each stored event's state, so an event that lands among the last few is folded
 * from its predecessor's state: the work is the events after it, not the conversation.
 */
export function foldSteps(base: ConversationState | null, events: readonly PhaseEvent[]): ConversationState[] {
  const out: ConversationState[] = []
  let s = base
  for (const e of events) {
    s = stepConversation(s, e)
    out.push(s)
  }
  return out
}

/** `ended` after an end event, `idle` once closed by a gap or quiet for the idle limit, else `open`. */
export function conversationStatus(s: ConversationState, now: number, idleMs = CHAT_IDLE_MS): ConversationStatus {
  if (s.endedAt !== null) return 'ended'
  return s.closed || now - s.lastEventAt > idleMs ? 'idle' : 'open'
}
