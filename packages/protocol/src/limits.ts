/**
 * Limits and timings of the public contract (docs/protocol.md §1-3, docs/rules.md §3).
 * The SDK imports these constants; the collector enforces them.
 */

/** Wire format version carried in every batch as `v`. */
export const PROTOCOL_VERSION = 1

/** Largest accepted request body, in bytes. */
export const MAX_BODY_BYTES = 65_536
/** Most events in one batch. */
export const MAX_EVENTS = 500
/** Longest accepted string field, in UTF-16 code units. */
export const MAX_STRING = 64
/** Event ids, session ids and subject ids: 1-64 chars of this alphabet. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/

/** An event stamped more than this far in the future (after skew correction) is refused. */
export const MAX_FUTURE_MS = 5 * 60_000
/** An event older than this (after skew correction) is refused. */
export const MAX_AGE_MS = 72 * 3_600_000

/** A browser session ends after this long without activity (configurable per script tag). */
export const DEFAULT_SESSION_TIMEOUT_MS = 30 * 60_000
/** One chat usage session per started 15 minutes of bot time (seed 001). */
export const CHAT_UNIT_MS = 15 * 60_000
/** An open conversation pings this often. */
export const CHAT_PING_MS = 60_000
/** A conversation with no event for this long is closed at its last event. */
export const CHAT_IDLE_MS = 30 * 60_000
/**
 * Bot time is billed only as far as the collector witnessed it: a conversation's billable time
 * never exceeds the span between the first and the last receipt of its events plus this much
 * (the delay of a beacon in flight or retried once). See docs/rules.md, "Chat sessions".
 */
export const CHAT_WITNESS_TOLERANCE_MS = 5 * 60_000
/**
 * Most events stored for one conversation (over 16 hours of pings): more are refused with
 * `conversation_too_long`, so that the work of one request never grows with a conversation's history.
 */
export const MAX_CONVERSATION_EVENTS = 1000
/**
 * Most conversations one batch may name: the events of any further conversation are refused with
 * `too_many_conversations` (a page has one conversation open at a time; docs/security.md).
 */
export const MAX_BATCH_CONVERSATIONS = 16
/**
 * An event that arrives out of order may land behind at most this many of its conversation's
 * stored events; one that would land further back is refused with `event_out_of_order`. The
 * collector keeps the folded state after each event, so such an insert refolds at most this many.
 * The SDK sends a conversation's events in order, one request at a time, and pings once a minute:
 * what arrives late is a beacon that crossed a later one (a page's last beacon beside the next
 * page's first), a few events, never 8 minutes of pings. Each event of reach costs every
 * out-of-order event a row read and a state rewritten (docs/security.md, "Conversations").
 */
export const CHAT_REORDER_EVENTS = 8
/**
 * The clock-skew allowance of a conversation's start: an event dated more than this before the
 * earliest event of the conversation as stored is refused with `event_before_conversation`.
 */
export const CHAT_BACKDATE_MS = 5 * 60_000

/** The SDK keeps each request at most this large (the keepalive budget is shared by the page). */
export const SDK_MAX_BATCH_BYTES = 60_000
/** The SDK keeps at most this many unacknowledged events. */
export const SDK_OUTBOX_CAP = 1000
