/**
 * Every reason a refused beacon is recorded under (`GET /v1/rejections`, the dashboard's "Refused
 * beacons"): docs/protocol.md §3 and docs/collector.md "Ingestion". The beacon route records only
 * these (its `note` and `forbid` take a `RejectionReason`), so this list is the whole set a reader
 * may meet, and the dashboard has a text for each.
 */
import { EVENT_CODES, type ErrorCode } from './codes.js'
/** Beacons answered `403 forbidden`, one body for all, recorded with their real reason (the origin's verdict's among them). */
export const FORBIDDEN_REASONS = [
  'unknown_container',
  'account_inactive',
  'subscription_ended',
  'origin_missing',
  'origin_null',
  'origin_invalid',
  'origin_not_allowed',
] as const
export type ForbiddenReason = (typeof FORBIDDEN_REASONS)[number]

/**
 * Error answers to a beacon other than 403, recorded under their code: the rate limits, the body
 * reader (too large, not UTF-8 or JSON, a connection closed mid-body) and the envelope check.
 */
export const ERROR_REASONS = ['rate_limited', 'payload_too_large', 'invalid_json', 'invalid_request', 'invalid_batch'] as const satisfies readonly ErrorCode[]
export type ErrorReason = (typeof ERROR_REASONS)[number]

/** Every refusal reason: the 403s, the other errors, a bot user agent, sessions over the hourly cap, and each per-event code. */
export const REJECTION_REASONS = [...FORBIDDEN_REASONS, ...ERROR_REASONS, 'bot', 'suspicious', ...EVENT_CODES] as const
export type RejectionReason = (typeof REJECTION_REASONS)[number]

const errorReasons: ReadonlySet<string> = new Set(ERROR_REASONS)
export const isErrorReason = (code: ErrorCode): code is ErrorReason => errorReasons.has(code)
