/**
 * The one error type of the domain and the services: a refusal with the code of
 * docs/protocol.md §3 (`invalid_request`, `not_found`, `conflict`…), and no HTTP in it. The HTTP
 * edge (`onError` in ../app.ts, with `statusOf` in ../errors.ts) turns the code into a status, in
 * one place.
 */
import type { ErrorCode } from '@tally/protocol'

export class DomainError extends Error {
  override readonly name: string = 'DomainError'
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    // A refusal is an answer, not a fault: no stack is captured (its capture was the costliest part
    // of refusing a request, and a client that ignores Retry-After makes thousands a second).
    const depth = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(message)
    Error.stackTraceLimit = depth
  }
}

/** A `DomainError`: `throw fail('not_found', 'no account "x"')`. */
export const fail = (code: ErrorCode, message: string): DomainError => new DomainError(code, message)
