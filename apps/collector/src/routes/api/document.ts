/**
 * `GET /openapi.json`: an OpenAPI 3.1 document generated from the routes the app really
 * registered (`app.routes`) and the zod schemas each route declares once (./ops-*.ts): what a
 * route validates with is what the document shows, so the two cannot drift. A route can neither
 * be missing from it nor linger after it is gone; the admin reads under
 * `/v1/admin/accounts/{id}/…` are derived from the account reads they mirror. A registered route
 * without an entry still appears, marked `x-undocumented`, and the openapi test fails on it.
 *
 * The document passes Redocly's `recommended` rules, generates a typed client with
 * openapi-typescript, every GET route's live answers are checked against it
 * (test/api-*.test.ts), and every constraint it states is broken once by
 * test/api-refusals.test.ts, which expects a 400 naming the field.
 */
import { z } from 'zod'
import { configId, error, errors, JSON_TYPE, retryAfter, type Auth, type Operation, type Reply, type Schema } from './define.js'
import { BASIC_OPERATIONS, UNLISTED } from './ops-basics.js'
import { USAGE_OPERATIONS } from './ops-usage.js'
import { READ_OPERATIONS } from './ops-reads.js'
import { ADMIN_OPERATIONS } from './ops-admin.js'
import { WEBHOOK_OPERATIONS } from './ops-webhooks.js'
import { PORTAL_OPERATIONS } from './ops-portal.js'

export { UNLISTED }

/** Keyed by `METHOD /hono/path`, as `app.routes` lists them. */
export const OPERATIONS: Record<string, Operation> = {
  ...BASIC_OPERATIONS,
  ...USAGE_OPERATIONS,
  ...READ_OPERATIONS,
  ...ADMIN_OPERATIONS,
  ...WEBHOOK_OPERATIONS,
  ...PORTAL_OPERATIONS,
}

const sameAs = 'The same for any account, with the admin token.'
type Json = Record<string, unknown>

const COMPONENTS = '#/components/schemas/'
const idOf = (s: Schema): string | undefined => z.globalRegistry.get(s)?.id as string | undefined

/** Drops what a component of the document needs not say, and points `$defs` at the components. */
function tidy(value: unknown, open: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => tidy(v, open))
  if (typeof value !== 'object' || value === null) return value
  const out: Json = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === '$schema' || k === '$id' || k === '$defs') continue
    // Answers stay open to additions: a client must not break on a field added later.
    if (open && k === 'additionalProperties' && v === false) continue
    out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', COMPONENTS) : tidy(v, open)
  }
  return out
}

/** A query parameter in a URL is text: a whole number the route reads from it is shown as the integer it is. */
const override = (ctx: { jsonSchema: Json }): void => {
  const range = ctx.jsonSchema.intRange as [number, number] | undefined
  if (!range) return
  for (const k of Object.keys(ctx.jsonSchema)) if (k !== 'description') delete ctx.jsonSchema[k]
  Object.assign(ctx.jsonSchema, { type: 'integer', minimum: range[0], maximum: range[1] })
}

/** A request schema (`io: input`, closed where the route refuses unknown keys) or an answer's (`output`, open). */
function jsonSchema(s: Schema, io: 'input' | 'output'): Json {
  const name = idOf(s)
  if (name) return { $ref: COMPONENTS + name }
  return tidy(z.toJSONSchema(s, { io, target: 'draft-2020-12', override }), io === 'output') as Json
}

/** Every named schema, as a request (the bodies the operations take) or as an answer. */
function components(ops: Operation[]): Json {
  const requests = new Set(ops.flatMap((op) => (op.body ? [idOf(op.body.schema)] : [])))
  const convert = (io: 'input' | 'output') =>
    (z.toJSONSchema(z.globalRegistry, { io, target: 'draft-2020-12', uri: (id) => COMPONENTS + id, override }) as { schemas: Json }).schemas
  const inputs = convert('input')
  const outputs = convert('output')
  return Object.fromEntries(
    Object.keys(outputs)
      .sort()
      .map((name) => [name, requests.has(name) ? tidy(inputs[name], false) : tidy(outputs[name], true)]),
  )
}

function parametersOf(op: Operation | undefined, path: string): Json[] {
  const params = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => {
    const name = m[1] as string
    const words = op?.path?.[name]
    return {
      name,
      in: 'path',
      required: true,
      ...(words ? { description: words.description } : {}),
      schema: words?.schema ? jsonSchema(words.schema, 'input') : { type: 'string' },
    }
  })
  const query = Object.entries(op?.query?.shape ?? {}).map(([name, field]) => {
    const { description, ...schema } = jsonSchema(field as Schema, 'input')
    return { name, in: 'query', required: !(field as Schema).safeParse(undefined).success, description, schema }
  })
  return [...params, ...query]
}

const ADMIN_MIRROR = /^\/v1\/admin\/accounts\/:id(\/.+)$/

/** The admin twin of an account read's operation id: `getUsage` -> `adminGetUsage`. */
export const adminOperationId = (base: string): string => `admin${base[0]?.toUpperCase() ?? ''}${base.slice(1)}`

/** The entry of a route, the admin mirror of an account read derived from that read. */
export function operationOf(method: string, path: string): Operation | undefined {
  const own = OPERATIONS[`${method} ${path}`]
  if (own) return own
  const mirrored = method === 'GET' ? ADMIN_MIRROR.exec(path) : null
  const base = mirrored ? OPERATIONS[`GET /v1${mirrored[1]}`] : undefined
  if (base?.auth !== 'account') return undefined
  const notFound = base.responses[404]
  const invalid = base.responses[400]
  const badId = '`invalid_request`: the account id is not an id (docs/protocol.md §7).'
  return {
    ...base,
    operationId: adminOperationId(base.operationId),
    summary: `${base.summary} (admin, any account)`,
    description: base.description ? `${sameAs} ${base.description}` : sameAs,
    tags: ['admin'],
    auth: 'admin',
    path: { id: { description: 'The account id.', schema: configId }, ...base.path },
    responses: {
      ...base.responses,
      400: error(invalid ? `${badId} ${invalid.description}` : badId),
      401: errors.admin401,
      404: error(notFound ? `\`not_found\`: no such account. ${notFound.description}` : '`not_found`: no such account.'),
    },
  }
}

const SECURITY: Record<Auth, Array<Record<string, string[]>>> = {
  none: [],
  account: [{ accountKey: [] }, { dashboardSession: [] }],
  secret: [{ secretKey: [] }],
  admin: [{ adminToken: [] }],
  dashboard: [{ dashboardSession: [] }],
  portal: [{ portalSession: [] }],
}

const TAGS = [
  { name: 'browser', description: 'The script-tag SDK and the beacons it sends (docs/protocol.md §3).' },
  { name: 'server usage', description: "The vendor's backend reports usage and moves credits, with the secret key (docs/protocol.md §4)." },
  { name: 'read', description: "Usage, period, invoices, credits and refused beacons of the key's account (docs/protocol.md §5)." },
  { name: 'admin', description: "Configuration, the billing run and every account's reads, with the admin token (docs/protocol.md §6)." },
  { name: 'dashboard', description: 'The read API for people: HTML, its sign-in and its files.' },
  { name: 'portal', description: "The billing portal: the account's own people see and change their plan, credits and invoices (docs/portal.md)." },
  { name: 'operations', description: 'Health, readiness, metrics and this document.' },
]

/**
 * Answers any operation can give. Node's HTTP server refuses over-large headers before any route
 * runs; anything a route did not expect is a 500 with the error body (`onError` in app.ts).
 */
const COMMON_RESPONSES = {
  HeadersTooLarge: { description: 'Request headers over 16 KiB, refused by the HTTP server before any route runs; no body.' },
  Unexpected: { description: 'An unexpected failure: `500 internal`, logged.', content: { [JSON_TYPE]: { schema: { $ref: `${COMPONENTS}Error` } } } },
}

/**
 * Throttled authentication (../../middleware/throttle.ts, docs/security.md "Keys and sign-ins"): a
 * request that needs a key (any `/v1/` route but the beacons) or a sign-in, from an address with
 * too many failed key checks, is refused before any key is compared.
 */
const THROTTLED = '`rate_limited`: too many failed key checks from this address; no key was compared.'
const throttled = (method: string, path: string): boolean =>
  (path.startsWith('/v1/') && !path.startsWith('/v1/containers/')) || `${method} ${path}` === 'POST /dashboard/sign-in'

/** The operation's answers, with the 429 of throttled authentication where the throttle runs. */
function repliesOf(method: string, path: string, op: Operation): Record<string, Reply> {
  if (!throttled(method, path)) return op.responses
  const own = op.responses[429]
  return {
    ...op.responses,
    429: own ? { ...own, description: `${own.description} ${THROTTLED}`, headers: own.headers ?? retryAfter } : { ...error(THROTTLED), headers: retryAfter },
  }
}

/**
 * Builds the document from the registered routes (middleware, method ALL, is left out);
 * `origin` is the server the document names (the client's origin, ../../middleware/client.ts), else the relative `/`.
 */
export function openApiDocument(routes: ReadonlyArray<{ method: string; path: string }>, origin = '/'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  const seen = new Set<string>()
  for (const { method, path } of routes) {
    const key = `${method} ${path}`
    if (method === 'ALL' || seen.has(key) || Object.hasOwn(UNLISTED, key)) continue
    seen.add(key)
    const op = operationOf(method, path)
    const params = parametersOf(op, path)
    const openPath = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    const entry: Record<string, unknown> = op
      ? {
          operationId: op.operationId,
          summary: op.summary,
          ...(op.description ? { description: op.description } : {}),
          tags: op.tags,
          security: SECURITY[op.auth],
          parameters: params,
          ...(op.body ? { requestBody: { required: true, content: { [op.body.contentType]: { schema: jsonSchema(op.body.schema, 'input') } } } } : {}),
          responses: {
            ...Object.fromEntries(
              Object.entries(repliesOf(method, path, op)).map(([status, r]) => [
                status,
                {
                  description: r.description,
                  ...(r.headers
                    ? {
                        headers: Object.fromEntries(
                          Object.entries(r.headers).map(([h, { schema, ...rest }]) => [h, { ...rest, schema: jsonSchema(schema, 'output') }]),
                        ),
                      }
                    : {}),
                  ...(r.content
                    ? {
                        content: Object.fromEntries(
                          Object.entries(r.content).map(([type, { schema }]) => [type, schema ? { schema: jsonSchema(schema, 'output') } : {}]),
                        ),
                      }
                    : {}),
                },
              ]),
            ),
            431: { $ref: '#/components/responses/HeadersTooLarge' },
            default: { $ref: '#/components/responses/Unexpected' },
          },
        }
      : { summary: `${method} ${path}`, 'x-undocumented': true, parameters: params, responses: { default: { description: 'Not documented yet.' } } }
    paths[openPath] = { ...paths[openPath], [method.toLowerCase()]: entry }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tally collector',
      version: '1',
      description: 'Usage tracking and billing: browser beacons, server-side usage, the read API, admin. Errors are `{ "error": { "code", "message" } }`.',
      // The project grants no licence (its packages are private and name none): say so until it picks one.
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: origin, description: 'This collector, as the request for this document reached it.' }],
    tags: TAGS,
    paths,
    components: {
      schemas: components(Object.values(OPERATIONS)),
      responses: COMMON_RESPONSES,
      securitySchemes: {
        accountKey: { type: 'http', scheme: 'bearer', description: "The account's read key (rk_…) or secret key (sk_…)." },
        secretKey: { type: 'http', scheme: 'bearer', description: "The account's secret key (sk_…)." },
        adminToken: { type: 'http', scheme: 'bearer', description: 'TALLY_ADMIN_TOKEN.' },
        dashboardSession: { type: 'apiKey', in: 'cookie', name: 'tally_session', description: 'Set by POST /dashboard/sign-in; GET requests only.' },
        portalSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'tally_portal',
          description: "Set by opening a link of POST /v1/portal/sessions; writes also need the page's `X-Tally-CSRF` header (docs/portal.md).",
        },
      },
    },
  }
}
