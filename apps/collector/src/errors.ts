/**
 * The HTTP edge's errors: `DomainError` (./domain/errors.ts) with response headers
 * (`Retry-After`), and `statusOf`, the one place a code becomes a status (docs/protocol.md §3).
 * `onError` in ./app.ts turns either into `{ error: { code, message } }`.
 */
import { ERROR_STATUS, type ErrorCode } from '@tally/protocol'
import { DomainError } from './domain/errors.js'

export { DomainError }

/** The status docs/protocol.md §3 gives a code. */
export const statusOf = (code: ErrorCode): (typeof ERROR_STATUS)[ErrorCode] => ERROR_STATUS[code]

export class TallyError extends DomainError {
  override readonly name = 'TallyError'
  constructor(
    code: ErrorCode,
    message: string,
    /** Extra response headers (`Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message)
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return statusOf(this.code)
  }
}

/** A refusal at the HTTP edge (routes, middleware), with the status docs/protocol.md §3 gives its code. */
export const fail = (code: ErrorCode, message: string, headers?: Record<string, string>): TallyError => new TallyError(code, message, headers)
