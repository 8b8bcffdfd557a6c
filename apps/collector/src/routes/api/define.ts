/**
 * How a route declares its API once, in zod: its path, query and body schemas (what the route
 * validates with, through `valid`) and its answers (what `/openapi.json` shows, ./document.ts).
 * Nothing here is written twice: the document is generated from these schemas, so it says what
 * the validator does.
 */
import { z } from 'zod'
import { ERROR_STATUS, ID_PATTERN, isConfigId, MAX_BODY_BYTES, MAX_STRING, describeIssues, type ErrorCode } from '@tally/protocol'
import { fail } from '../../errors.js'

export type Auth = 'none' | 'account' | 'secret' | 'admin' | 'dashboard' | 'portal'

/** A component of the document: a zod schema with an `id` (`.meta({ id })`), shown as `#/components/schemas/<id>`. */
export type Schema = z.ZodType

/** One answer: its media types (with a schema, or `{}` for a body its type alone describes) and headers. */
export interface Reply {
  description: string
  content?: Record<string, { schema?: Schema }>
  headers?: Record<string, { description: string; required?: boolean; schema: Schema }>
}

export interface Operation {
  /** Stable camelCase name: what a generated client calls the method. Never rename one. */
  operationId: string
  summary: string
  description?: string
  tags: string[]
  auth: Auth
  /** The path parameters the Hono path names (`:file`), each with its words and schema (a string by default). */
  path?: Record<string, { description: string; schema?: Schema }>
  /** The query, one field per parameter (`.meta({ description })` on each): the route validates with it. */
  query?: z.ZodObject
  /** The body: the route validates with this schema (`valid`). */
  body?: { contentType: string; schema: Schema; code?: 'invalid_request' | 'invalid_batch' }
  responses: Record<string, Reply>
}

/**
 * Parses `input` with `schema`, or throws 400 with `code` (`invalid_request` unless told) and
 * a message that names the field (`credits: …`) or the unknown parameter.
 */
export function valid<S extends z.ZodType>(schema: S, input: unknown, code: ErrorCode = 'invalid_request'): z.output<S> {
  const r = schema.safeParse(input)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  if (issue?.code === 'unrecognized_keys') {
    const key = String(issue.keys[0]).slice(0, 64)
    const known = schema instanceof z.ZodObject && issue.path.length === 0 ? `; expected any of ${Object.keys(schema.shape).join(', ')}` : ''
    throw fail(code, `${[...issue.path.map(String), key].join('.')}: unknown parameter${known}`)
  }
  throw fail(code, describeIssues(r.error.issues))
}

// --- Atoms the schemas share ---

/** An id of the wire contract (docs/protocol.md §3): 1-64 characters of [A-Za-z0-9._:-]. */
const CONFIG_ID_RULE = 'expected 1-64 characters of [A-Za-z0-9._:-], not a built-in property name'
export const id = z.string().regex(ID_PATTERN, 'expected 1-64 characters of [A-Za-z0-9._:-]')
/**
 * An id of the configuration (docs/protocol.md §7): an id, and no built-in property name. One check
 * for every admin path: an id with a line break or a slash would reach headers and file names.
 */
export const configId = z.string().regex(ID_PATTERN, CONFIG_ID_RULE).refine(isConfigId, CONFIG_ID_RULE)
/** The admin routes' `:id`. */
export const AdminPath = z.object({ id: configId })
export const str = z.string().max(MAX_STRING)
export const text = z.string()
export const int = z.number().int()
export const ms = int.meta({ description: 'UTC milliseconds since the epoch.' })
/** Beside every answer that carries instants: one zone rule for every time shown (the dashboard shows them there, labelled). */
export const zone = z
  .string()
  .meta({ description: "The account's IANA time zone: its days and periods are local there, and the dashboard shows the answer's instants there, labelled." })
export const date = z.iso.date()
export const instant = z.iso.datetime({ offset: true })
/** A whole number in a query string: the document shows an integer from `min` to `max` (`intRange`, read by ./document.ts). */
export const intParam = (min: number, max: number, message: string) =>
  z
    .string()
    .regex(/^\d{1,16}$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message).max(max, message))
    .meta({ intRange: [min, max] })

// --- Answers the operations share ---

export const JSON_TYPE = 'application/json'
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      errorId: z.string().optional().meta({ description: 'On a 500 only: the id of the log line that tells what failed. A 500 is a bug, not worth retrying.' }),
    }),
  })
  .meta({ id: 'Error' })
export const json = (description: string, schema: Schema): Reply => ({ description, content: { [JSON_TYPE]: { schema } } })
export const error = (description: string): Reply => json(description, ErrorBody)
export const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: z.number().int().min(1) } }
export const STORAGE: Reply = { ...error('`unavailable`: storage is failing; nothing was written. Retry later.'), headers: retryAfter }
export const errors = {
  400: error('`invalid_request`: the message names the parameter.'),
  401: error('`unauthorized`: no key, or a key of no account.'),
  secret403: error('`forbidden`: the read key; this route needs the secret key.'),
  admin401: error('`unauthorized`: no admin token, or a wrong one.'),
  body400: error('`invalid_json`: the body is not JSON; `invalid_request` (or `invalid_batch`): the message names the field.'),
  413: error(`\`payload_too_large\`: the body is over ${MAX_BODY_BYTES} bytes.`),
}
export const csv = (
  description = "RFC 4180, CRLF line ends; a text field starting with =, +, -, @, a tab or a CR is written with a leading ' (docs/security.md), numbers as they are.",
) => z.string().meta({ description })
