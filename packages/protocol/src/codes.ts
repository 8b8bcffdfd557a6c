/** Error and rejection codes of docs/protocol.md §3-4. */

/** Per-event rejection codes in a `200` answer to a browser batch. */
export const EVENT_CODES = [
  'invalid_event',
  'unknown_campaign',
  'inactive_campaign',
  'unknown_advisor',
  'inactive_advisor',
  'unknown_bot',
  'event_too_old',
  'event_in_future',
  /** The conversation already holds MAX_CONVERSATION_EVENTS events. */
  'conversation_too_long',
  /** The conversation was opened by another session: a conversation belongs to the session that opened it. */
  'conversation_session_mismatch',
  /** Dated more than CHAT_BACKDATE_MS before the conversation's earliest stored event. */
  'event_before_conversation',
  /** Would land behind more than CHAT_REORDER_EVENTS of the conversation's stored events. */
  'event_out_of_order',
  /** The batch names more than MAX_BATCH_CONVERSATIONS conversations: this one is past them. */
  'too_many_conversations',
  /** The session is over its address's hourly cap: it may not add time to a billed conversation. */
  'over_session_cap',
] as const
export type EventCode = (typeof EVENT_CODES)[number]

/** Per-event rejection codes of `POST /v1/usage`. */
export const USAGE_CODES = [
  'invalid_event',
  'insufficient_credits',
  'quota_exceeded',
  'unknown_member',
  'unknown_action',
  'event_too_old',
  'event_in_future',
] as const
export type UsageCode = (typeof USAGE_CODES)[number]

/** Request-level error codes, with their HTTP status. */
export const ERROR_STATUS = {
  invalid_json: 400,
  invalid_batch: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const
export type ErrorCode = keyof typeof ERROR_STATUS

/** Body of every error answer: `{ "error": { "code", "message" } }`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string }
}
