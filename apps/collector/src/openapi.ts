/**
 * `GET /openapi.json`: an OpenAPI 3.1 document generated from the routes the app really
 * registered (`app.routes`), so a route can neither be missing from it nor linger after it is
 * gone. Each route's words and schemas come from `OPERATIONS` below, keyed by method and Hono
 * path; path parameters are read from the path itself, the usage query from the table the route
 * validates with, the limits from `@tally/protocol`. The admin reads under
 * `/v1/admin/accounts/{id}/…` are derived from the account reads they mirror. A registered route
 * without an entry still appears, marked `x-undocumented`, and the openapi test fails on it.
 */
import {
  EVENT_CODES, ID_PATTERN, MAX_BODY_BYTES, MAX_EVENTS, MAX_STRING, USAGE_CODES, ERROR_STATUS,
} from '@tally/protocol'
import { GROUPINGS, METERS, USAGE_QUERY } from './usage-read.js'

type Schema = Record<string, unknown>
type Auth = 'none' | 'account' | 'secret' | 'admin' | 'dashboard'

export interface Operation {
  summary: string
  description?: string
  tags: string[]
  auth: Auth
  query?: ReadonlyArray<{ name: string; description: string; schema: Schema; required?: boolean }>
  body?: { contentType: string; schema: Schema }
  /** Status -> description and (JSON unless said) schema. */
  responses: Record<string, { description: string; schema?: Schema; contentType?: string }>
}

const id: Schema = { type: 'string', pattern: ID_PATTERN.source }
const str: Schema = { type: 'string', maxLength: MAX_STRING }
const int: Schema = { type: 'integer' }
const obj = (properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema =>
  ({ type: 'object', properties, required })
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` })

const SCHEMAS: Record<string, Schema> = {
  Error: obj({ error: obj({ code: { type: 'string', enum: Object.keys(ERROR_STATUS) }, message: { type: 'string' } }) }),
  Batch: {
    ...obj({
      v: { const: 1 }, sentAt: { ...int, description: 'Client clock, ms since the epoch: corrects the events\' `ts` for skew.' },
      sdk: str,
      events: {
        type: 'array', minItems: 1, maxItems: MAX_EVENTS,
        items: {
          oneOf: [
            obj({ id, type: { const: 'impression' }, session: id, campaign: id, ts: int }),
            obj({ id, type: { const: 'engagement' }, session: id, advisor: id, ts: int }),
            obj({
              id, type: { const: 'chat' }, session: id, conversation: id, bot: id,
              phase: { enum: ['start', 'ping', 'handoff', 'resume', 'end'] }, ts: int,
            }),
          ],
        },
      },
    }, ['v', 'sentAt', 'events']),
    description: `At most ${MAX_BODY_BYTES} bytes. Sent as text/plain (sendBeacon, no preflight) or application/json.`,
  },
  BatchResult: obj({
    accepted: int, duplicates: int,
    rejected: { type: 'array', items: obj({ index: int, code: { type: 'string', enum: [...EVENT_CODES] } }) },
  }),
  UsageEvents: obj({
    events: {
      type: 'array', minItems: 1, maxItems: MAX_EVENTS,
      items: {
        oneOf: [
          obj({ id, type: { const: 'alert' }, alert: str, user: str, ts: int }, ['id', 'type', 'ts']),
          obj({ id, type: { const: 'action' }, action: id, quantity: { type: 'integer', minimum: 1 }, member: id, ts: int }, ['id', 'type', 'action', 'ts']),
          obj({ id, type: { const: 'contacts' }, count: { type: 'integer', minimum: 0 }, ts: int }),
          obj({ id, type: { const: 'email' }, count: { type: 'integer', minimum: 1 }, ts: int }),
        ],
      },
    },
  }),
  UsageResults: obj({
    results: {
      type: 'array',
      items: obj({
        id: { type: 'string' }, status: { enum: ['accepted', 'duplicate', 'rejected'] },
        code: { type: 'string', enum: [...USAGE_CODES] }, credits: obj({ spent: int, balance: int }),
      }, ['id', 'status']),
    },
  }),
  UsageReport: obj({
    account: { type: 'string' }, timezone: { type: 'string' }, from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' }, groupBy: { type: 'array', items: { enum: [...GROUPINGS] } },
    rows: {
      type: 'array',
      items: {
        type: 'object',
        description: 'One row per combination of the grouping keys. A key is null where the usage has none '
          + '(an impression has no advisor; alerts and credits have no container). `containerName` comes with `container`.',
        properties: {
          ...Object.fromEntries(GROUPINGS.map((g) => [g, { type: ['string', 'null'] }])),
          containerName: { type: 'string' },
          ...Object.fromEntries(METERS.map((m) => [m, int])),
        },
        required: [...METERS],
      },
    },
  }),
  Rejections: obj({
    rejections: {
      type: 'array',
      items: obj({
        container: { type: 'string' }, reason: { type: 'string' }, origin: { type: 'string' }, count: int,
        firstSeen: { type: 'string', format: 'date-time' }, lastSeen: { type: 'string', format: 'date-time' },
      }),
    },
  }),
  Period: { type: 'object', description: 'Period bounds, meters against the included quotas, email quota, credit balances, invoice preview.' },
  Invoices: obj({ account: { type: 'string' }, invoices: { type: 'array', items: { type: 'object' } } }),
  Invoice: { type: 'object', description: 'Number, kind, issue date, period, lines (integer minor units) and total.' },
  Credits: obj({ account: { type: 'string' }, asOf: { type: 'string', format: 'date-time' }, wallets: { type: 'object' } }),
  CreditLog: obj({ account: { type: 'string' }, entries: { type: 'array', items: { type: 'object' } } }),
}

const json = (description: string, schema: string): { description: string; schema: Schema } => ({ description, schema: ref(schema) })
const errors = {
  400: json('Invalid request: the message names the parameter.', 'Error'),
  401: json('No key, or a key of no account.', 'Error'),
}
const sameAs = 'The same for any account, with the admin token.'

/** Keyed by `METHOD /hono/path`, as `app.routes` lists them. */
const sdkFile = 'Brotli when Accept-Encoding allows it, else gzip, else uncompressed (`Vary: Accept-Encoding`), with an ETag per coding and `Cache-Control: public, max-age=300, stale-while-revalidate=86400`.'
const sdkResponses: Operation['responses'] = {
  200: { description: 'JavaScript.', contentType: 'text/javascript' },
  304: { description: 'Not modified: If-None-Match named the ETag of this coding.' },
  503: json('Not built: run `npm run build`.', 'Error'),
}

export const OPERATIONS: Record<string, Operation> = {
  'GET /healthz': { summary: 'Liveness', tags: ['operations'], auth: 'none', responses: { 200: { description: '`{ "status": "ok" }`' } } },
  'GET /readyz': { summary: 'Readiness: the database answers', tags: ['operations'], auth: 'none', responses: { 200: { description: '`{ "status": "ready" }`' }, 503: json('Storage unavailable.', 'Error') } },
  'GET /metrics': { summary: 'Prometheus metrics', tags: ['operations'], auth: 'none', responses: { 200: { description: 'Text exposition format.', contentType: 'text/plain' } } },
  'GET /openapi.json': { summary: 'This document', tags: ['operations'], auth: 'none', responses: { 200: { description: 'OpenAPI 3.1.' } } },
  'GET /t.js': { summary: 'The script-tag SDK', description: sdkFile, tags: ['browser'], auth: 'none', responses: sdkResponses },
  'GET /t.debug.js': { summary: 'The script-tag SDK with data-debug console diagnostics', description: sdkFile, tags: ['browser'], auth: 'none', responses: sdkResponses },
  'GET /sdk.mjs': { summary: 'The ESM SDK for <script type="module">, dependency included', description: sdkFile, tags: ['browser'], auth: 'none', responses: sdkResponses },
  'POST /v1/containers/:container/events': {
    summary: 'Browser beacons (PROTOCOL §3)', tags: ['browser'], auth: 'none',
    description: 'The Origin (else Referer) must match one of the container\'s domains. 200 only after the batch is committed.',
    body: { contentType: 'text/plain', schema: ref('Batch') },
    responses: {
      200: json('Counted, duplicates and per-event rejections.', 'BatchResult'), 400: json('invalid_json or invalid_batch.', 'Error'),
      403: json('Unknown container, origin not allowed or account inactive.', 'Error'), 413: json('Body over the limit.', 'Error'),
      429: json('Rate limited; see Retry-After.', 'Error'), 503: json('Storage unavailable; nothing written.', 'Error'),
    },
  },
  'POST /v1/usage': {
    summary: 'Server-side usage: alerts, actions, contacts, emails (PROTOCOL §4)', tags: ['server usage'], auth: 'secret',
    body: { contentType: 'application/json', schema: ref('UsageEvents') },
    responses: { 200: json('Per-event results in request order.', 'UsageResults'), ...errors, 403: json('Not the secret key.', 'Error') },
  },
  'POST /v1/credits/purchase': {
    summary: 'Buy a credit pack (idempotent by id)', tags: ['server usage'], auth: 'secret',
    body: { contentType: 'application/json', schema: obj({ pack: id, id }) },
    responses: { 200: { description: 'The purchase and the new balance.' }, ...errors },
  },
  'POST /v1/credits/transfer': {
    summary: 'Send credits to a member wallet (irreversible, idempotent by id)', tags: ['server usage'], auth: 'secret',
    body: { contentType: 'application/json', schema: obj({ to: id, credits: { type: 'integer', minimum: 1 }, id }) },
    responses: { 200: { description: 'accepted, duplicate, or rejected with insufficient_credits.' }, ...errors },
  },
  'GET /v1/usage': {
    summary: 'Usage by day, container, campaign, advisor and bot (PROTOCOL §5)', tags: ['read'], auth: 'account',
    description: 'Days are calendar days in the account\'s time zone; `from` and `to` are both included.',
    query: USAGE_QUERY,
    responses: { 200: { ...json('The rows; CSV (RFC 4180) with format=csv or Accept: text/csv.', 'UsageReport') }, ...errors },
  },
  'GET /v1/period': { summary: 'The current period at a glance', tags: ['read'], auth: 'account', responses: { 200: json('Current period.', 'Period'), 401: errors[401], 404: json('No current period.', 'Error') } },
  'GET /v1/invoices': { summary: 'Finalized invoices', tags: ['read'], auth: 'account', responses: { 200: json('Invoices in number order.', 'Invoices'), 401: errors[401] } },
  'GET /v1/invoices/:file': {
    summary: 'One invoice: {number}, {number}.json, {number}.csv or {number}.pdf', tags: ['read'], auth: 'account',
    responses: { 200: json('JSON, CSV or PDF by the extension, else by Accept.', 'Invoice'), 401: errors[401], 404: json('No such invoice.', 'Error') },
  },
  'GET /v1/credits': { summary: 'Credit balances by wallet and lot', tags: ['read'], auth: 'account', responses: { 200: json('Balances.', 'Credits'), 401: errors[401] } },
  'GET /v1/credits/log': {
    summary: 'The credit log', tags: ['read'], auth: 'account',
    query: [{ name: 'wallet', description: 'Only this wallet (`account`, `member:alice`).', schema: { type: 'string' } }],
    responses: { 200: json('Grants, purchases, spends, transfers and expiries, oldest first.', 'CreditLog'), 401: errors[401] },
  },
  'GET /v1/rejections': {
    summary: 'Refused beacons by container, reason and origin', tags: ['read'], auth: 'account',
    query: [{ name: 'since', description: 'ISO-8601 instant; default 7 days ago.', schema: { type: 'string', format: 'date-time' } }],
    responses: { 200: json('Counts per reason and origin.', 'Rejections'), ...errors },
  },
  'PUT /v1/admin/accounts/:id': {
    summary: 'Create or replace an account (the config file\'s shape)', tags: ['admin'], auth: 'admin',
    body: { contentType: 'application/json', schema: { type: 'object' } },
    responses: { 200: { description: 'The account as applied.' }, 400: errors[400], 401: errors[401], 409: json('A container id is taken.', 'Error') },
  },
  'PUT /v1/admin/containers/:id': {
    summary: 'Create or replace a container; `account` names the owner of a new one', tags: ['admin'], auth: 'admin',
    body: { contentType: 'application/json', schema: { type: 'object' } },
    responses: { 200: { description: 'The container as applied.' }, 400: errors[400], 401: errors[401], 409: json('It belongs to another account.', 'Error') },
  },
  'POST /v1/admin/billing/run': {
    summary: 'Close every period that ended by asOf (idempotent)', tags: ['admin'], auth: 'admin',
    body: { contentType: 'application/json', schema: obj({ asOf: { type: 'string', format: 'date-time' }, account: { type: 'string' } }, []) },
    responses: { 200: { description: 'Invoices and credit entries written, per account.' }, 400: errors[400], 401: errors[401] },
  },
  'GET /dashboard': { summary: 'The dashboard, or its sign-in form', tags: ['dashboard'], auth: 'none', responses: { 200: { description: 'HTML.', contentType: 'text/html' } } },
  'GET /dashboard/': { summary: 'Redirects to /dashboard', tags: ['dashboard'], auth: 'none', responses: { 301: { description: 'Moved.' } } },
  'POST /dashboard/sign-in': {
    summary: 'Sign in with the read key', tags: ['dashboard'], auth: 'none',
    body: { contentType: 'application/x-www-form-urlencoded', schema: obj({ key: { type: 'string' } }) },
    responses: { 303: { description: 'Signed in: an HttpOnly, SameSite=Strict cookie, back to /dashboard.' }, 401: { description: 'Wrong key: the form again with the reason.', contentType: 'text/html' } },
  },
  'POST /dashboard/sign-out': { summary: 'Sign out', tags: ['dashboard'], auth: 'none', responses: { 303: { description: 'The cookie cleared.' } } },
  'GET /dashboard/assets/:file': { summary: 'The dashboard\'s scripts and styles (uPlot included)', tags: ['dashboard'], auth: 'none', responses: { 200: { description: 'JavaScript or CSS.' }, 404: json('No such file.', 'Error') } },
}

const ADMIN_MIRROR = /^\/v1\/admin\/accounts\/:id(\/.+)$/

/** The entry of a route, the admin mirror of an account read derived from that read. */
export function operationOf(method: string, path: string): Operation | undefined {
  const own = OPERATIONS[`${method} ${path}`]
  if (own) return own
  const mirrored = method === 'GET' ? ADMIN_MIRROR.exec(path) : null
  const base = mirrored ? OPERATIONS[`GET /v1${mirrored[1]}`] : undefined
  if (!base || base.auth !== 'account') return undefined
  return { ...base, summary: `${base.summary} (admin, any account)`, description: sameAs, tags: ['admin'], auth: 'admin' }
}

const SECURITY: Record<Auth, Array<Record<string, string[]>>> = {
  none: [],
  account: [{ accountKey: [] }, { dashboardSession: [] }],
  secret: [{ secretKey: [] }],
  admin: [{ adminToken: [] }],
  dashboard: [{ dashboardSession: [] }],
}

/** Builds the document from the registered routes (middleware, method ALL, is left out). */
export function openApiDocument(routes: ReadonlyArray<{ method: string; path: string }>): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  const seen = new Set<string>()
  for (const { method, path } of routes) {
    if (method === 'ALL' || seen.has(`${method} ${path}`)) continue
    seen.add(`${method} ${path}`)
    const op = operationOf(method, path)
    const params = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
    const openPath = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    const entry: Record<string, unknown> = op
      ? {
        summary: op.summary, ...(op.description ? { description: op.description } : {}), tags: op.tags,
        security: SECURITY[op.auth],
        parameters: [...params, ...(op.query ?? []).map((q) => ({ name: q.name, in: 'query', required: q.required ?? false, description: q.description, schema: q.schema }))],
        ...(op.body ? { requestBody: { required: true, content: { [op.body.contentType]: { schema: op.body.schema } } } } : {}),
        responses: Object.fromEntries(Object.entries(op.responses).map(([status, r]) => [status, {
          description: r.description,
          ...(r.schema ? { content: { [r.contentType ?? 'application/json']: { schema: r.schema } } } : r.contentType ? { content: { [r.contentType]: {} } } : {}),
        }])),
      }
      : { summary: `${method} ${path}`, 'x-undocumented': true, parameters: params, responses: { default: { description: 'Not documented yet.' } } }
    paths[openPath] = { ...paths[openPath], [method.toLowerCase()]: entry }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tally collector', version: '1',
      description: 'Usage tracking and billing: browser beacons, server-side usage, the read API, admin. Errors are `{ "error": { "code", "message" } }`.',
    },
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        accountKey: { type: 'http', scheme: 'bearer', description: "The account's read key (rk_…) or secret key (sk_…)." },
        secretKey: { type: 'http', scheme: 'bearer', description: "The account's secret key (sk_…)." },
        adminToken: { type: 'http', scheme: 'bearer', description: 'TALLY_ADMIN_TOKEN.' },
        dashboardSession: { type: 'apiKey', in: 'cookie', name: 'tally_session', description: 'Set by POST /dashboard/sign-in; GET requests only.' },
      },
    },
  }
}
