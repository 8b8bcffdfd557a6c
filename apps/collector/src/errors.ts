/** The one HTTP error type: thrown anywhere, turned into `{ error: { code, message } }` by `onError`. */
import { ERROR_STATUS, type ErrorCode } from '@tally/protocol'

export class TallyError extends Error {
  override readonly name = 'TallyError'
  constructor(
    readonly status: (typeof ERROR_STATUS)[ErrorCode],
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers (`Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

/** A `TallyError` with the status docs/protocol.md §3 gives its code. */
export const fail = (code: ErrorCode, message: string, headers?: Record<string, string>): TallyError =>
  new TallyError(ERROR_STATUS[code], code, message, headers)
