/** The configuration, the failing store, the document's validators and the calls of the API contract test (api-contract.test.ts). */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { parseConfig, type TallyConfig } from '@tally/protocol'
import { ADMIN } from '../apps/collector/src/testkit.js'
import { StoreUnavailable } from '../apps/collector/src/engines/repository.js'
import type { Store } from '../apps/collector/src/services/store.js'
import { growth, without } from '../packages/billing/src/testing/plans.js'

export const SK = 'sk_acme_secret'
export const RK = 'rk_acme_read'
export const GONE_RK = 'rk_gone_read'
export const ORIGIN = 'https://shop.acme.test'

export const GROWTH = { ...without(growth, 'products'), creditCosts: { sms: 2, ai: 10 }, emailPacks: { big: { emails: 5000, price: 1500 } } }

export function contractConfig(): TallyConfig {
  const r = parseConfig({
    plans: { growth: GROWTH },
    accounts: {
      acme: {
        name: 'Acme Inc.',
        timezone: 'Europe/Amsterdam',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 3, contacts: 1000 },
        keys: { secret: SK, read: RK },
        members: ['alice'],
        containers: {
          ctr_shop: { name: 'Acme Shop', domains: ['shop.acme.test'], campaigns: { cmp_summer: {} }, advisors: { adv_shoes: {} }, bots: { bot_help: {} } },
        },
      },
      // Cancelled in February: no current period, so its period read is a 404.
      gone: {
        name: 'Gone',
        timezone: 'UTC',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-01-01', cancelledAt: '2026-02-15' },
        keys: { secret: 'sk_gone_secret', read: GONE_RK },
      },
    },
  })
  if (!r.ok) throw new Error(r.message)
  return r.value
}

/** A store that fails on demand: as storage fails (503), or with an error nobody expected (500). */
export function failingStore(inner: Store): { store: Store; fail(how: 'unavailable' | 'broken' | null): void } {
  let failure: 'unavailable' | 'broken' | null = null
  const store = new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown
      if (typeof value !== 'function' || prop === 'close') return value
      return (...args: unknown[]) =>
        failure === 'unavailable'
          ? Promise.reject(new StoreUnavailable('failing on purpose'))
          : failure === 'broken'
            ? Promise.reject(new Error('broken on purpose'))
            : (value as (...a: unknown[]) => unknown).apply(target, args)
    },
  })
  return {
    store,
    fail: (how) => {
      failure = how
    },
  }
}

// --- the document, as ajv validators ---

export type Json = Record<string, unknown>
export interface Reply {
  description: string
  content?: Record<string, { schema?: Json }>
  headers?: Record<string, { required?: boolean; schema: Json }>
  $ref?: string
}
export interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, Reply> }>>
  components: { schemas: Json; responses: Record<string, Reply> }
}

export const COMPONENTS = 'https://tally.test/openapi/components'

/** `#/components/schemas/X` -> the registered components, and every object that names its properties closed. */
export function prepare(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(prepare)
  if (node === null || typeof node !== 'object') return node
  const out: Json = {}
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', `${COMPONENTS}#/$defs/`) : prepare(v)
  }
  if ('properties' in out && !('additionalProperties' in out) && !('unevaluatedProperties' in out)) out.unevaluatedProperties = false
  return out
}

export function validatorsOf(doc: Doc) {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true })
  addFormats.default(ajv)
  ajv.addSchema({ $id: COMPONENTS, $defs: prepare(doc.components.schemas) as Json })
  const cache = new Map<string, ValidateFunction>()
  return (schema: Json): ValidateFunction => {
    const key = JSON.stringify(schema)
    let v = cache.get(key)
    if (!v) {
      v = ajv.compile(prepare(schema) as Json)
      cache.set(key, v)
    }
    return v
  }
}

export const essence = (type: string | null) => (type ?? '').split(';')[0]?.trim().toLowerCase() ?? ''

/**
 * What is wrong with a live answer for `method path` by the document: nothing, or the reasons.
 * `default` stands for the 500 of an unexpected failure only, as the document says.
 */
export async function problemsOf(doc: Doc, compile: (s: Json) => ValidateFunction, method: string, path: string, res: Response): Promise<string[]> {
  const op = doc.paths[path]?.[method]
  if (!op) return [`${method.toUpperCase()} ${path} is not in the document`]
  const status = String(res.status)
  let reply = op.responses[status] ?? (status === '500' ? op.responses.default : undefined)
  if (reply?.$ref) reply = doc.components.responses[reply.$ref.replace('#/components/responses/', '')]
  if (!reply) return [`status ${status} is not documented (${Object.keys(op.responses).join(', ')})`]
  const problems: string[] = []
  for (const [name, header] of Object.entries(reply.headers ?? {})) {
    const value = res.headers.get(name)
    if (value === null) {
      if (header.required) problems.push(`header ${name} is missing`)
      continue
    }
    const v = compile(header.schema)
    if (!v(header.schema.type === 'integer' ? Number(value) : value)) problems.push(`header ${name}: ${value} ${JSON.stringify(v.errors)}`)
  }
  const body = Buffer.from(await res.arrayBuffer())
  if (!reply.content) {
    if (body.length > 0) problems.push(`status ${status} documents no body, got ${body.length} bytes`)
    return problems
  }
  const type = essence(res.headers.get('content-type'))
  const media = Object.entries(reply.content).find(([t]) => essence(t) === type)?.[1]
  if (!media) return [...problems, `content type ${type || '(none)'} is not documented for ${status} (${Object.keys(reply.content).join(', ')})`]
  if (type === 'application/pdf' && body.subarray(0, 5).toString('latin1') !== '%PDF-') problems.push('not a PDF')
  if (!media.schema) return problems
  let value: unknown = body.toString('utf8')
  if (type === 'application/json') {
    try {
      value = JSON.parse(value as string)
    } catch {
      return [...problems, 'the body is not JSON']
    }
  }
  const v = compile(media.schema)
  if (!v(value)) problems.push(...(v.errors ?? []).map((e) => `body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`))
  return problems
}

// --- the calls ---

export interface Call {
  path: string
  headers?: Record<string, string>
  status: number
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
export const acme = bearer(RK)

/** Account reads: each call is made as written, then as the admin for account acme (see `mirrored`). */
export const READS: Record<string, Call[]> = {
  '/v1/usage': [
    { path: '/v1/usage?from=2026-07-01&to=2026-07-31&groupBy=day,container,campaign,advisor,bot', headers: acme, status: 200 },
    { path: '/v1/usage', headers: acme, status: 200 },
    { path: '/v1/usage?groupBy=container&format=csv', headers: acme, status: 200 },
    { path: '/v1/usage?groupBy=day', headers: { ...acme, accept: 'text/csv' }, status: 200 },
    { path: '/v1/usage?from=2026-02-30', headers: acme, status: 400 },
    { path: '/v1/usage?groupBy=week', headers: acme, status: 400 },
    { path: '/v1/usage?format=xml', headers: acme, status: 400 },
    { path: '/v1/usage', status: 401 },
  ],
  '/v1/period': [
    { path: '/v1/period', headers: acme, status: 200 },
    { path: '/v1/period', headers: bearer(SK), status: 200 },
    { path: '/v1/period', status: 401 },
  ],
  '/v1/invoices': [
    { path: '/v1/invoices', headers: acme, status: 200 },
    { path: '/v1/invoices', headers: bearer('rk_nobody_key'), status: 401 },
  ],
  '/v1/invoices/{file}': [
    { path: '/v1/invoices/1', headers: acme, status: 200 },
    { path: '/v1/invoices/2.json', headers: acme, status: 200 },
    { path: '/v1/invoices/1.csv', headers: acme, status: 200 },
    { path: '/v1/invoices/1.pdf', headers: acme, status: 200 },
    { path: '/v1/invoices/1', headers: { ...acme, accept: 'application/pdf' }, status: 200 },
    { path: '/v1/invoices/99', headers: acme, status: 404 },
    { path: '/v1/invoices/first', headers: acme, status: 404 },
    { path: '/v1/invoices/1', status: 401 },
  ],
  '/v1/invoices/{number}/{file}': [
    { path: '/v1/invoices/2/evidence', headers: acme, status: 200 },
    { path: '/v1/invoices/2/evidence.csv', headers: acme, status: 200 },
    { path: '/v1/invoices/2/evidence.jsonl', headers: acme, status: 200 },
    { path: '/v1/invoices/1/evidence', headers: { ...acme, accept: 'application/x-ndjson' }, status: 200 },
    { path: '/v1/invoices/99/evidence', headers: acme, status: 404 },
    { path: '/v1/invoices/1/evidence.xml', headers: acme, status: 404 },
    { path: '/v1/invoices/1/evidence', status: 401 },
  ],
  '/v1/credits': [
    { path: '/v1/credits', headers: acme, status: 200 },
    { path: '/v1/credits', status: 401 },
  ],
  '/v1/credits/log': [
    { path: '/v1/credits/log', headers: acme, status: 200 },
    { path: '/v1/credits/log?wallet=member:alice', headers: acme, status: 200 },
    { path: '/v1/credits/log', status: 401 },
  ],
  '/v1/rejections': [
    { path: '/v1/rejections', headers: acme, status: 200 },
    { path: '/v1/rejections?since=2026-07-01T00:00:00Z', headers: acme, status: 200 },
    { path: '/v1/rejections?since=last-week', headers: acme, status: 400 },
    { path: '/v1/rejections?limit=1&sort=count', headers: acme, status: 200 },
    { path: `/v1/rejections?limit=1&cursor=${Buffer.from('1').toString('base64url')}`, headers: acme, status: 200 },
    { path: '/v1/rejections?limit=501', headers: acme, status: 400 },
    { path: '/v1/rejections?sort=origin', headers: acme, status: 400 },
    { path: '/v1/rejections?cursor=not-a-cursor', headers: acme, status: 400 },
    { path: '/v1/rejections', status: 401 },
  ],
}

/** The admin mirror of an account read: the same query for acme with the admin token, and its refusals. */
export function mirrored(calls: Call[]): Call[] {
  const admin = (c: Call, account = 'acme') => c.path.replace(/^\/v1\//, `/v1/admin/accounts/${account}/`)
  const out = calls.filter((c) => c.status !== 401).map((c) => ({ ...c, path: admin(c), headers: { ...c.headers, ...bearer(ADMIN) } }))
  const first = calls[0] as Call
  return [
    ...out,
    { path: admin(first), status: 401 },
    { path: admin(first), headers: acme, status: 401 },
    { path: admin(first, 'nobody'), headers: bearer(ADMIN), status: 404 },
    { path: admin(first, 'a%0D%0Ab'), headers: bearer(ADMIN), status: 400 },
  ]
}
