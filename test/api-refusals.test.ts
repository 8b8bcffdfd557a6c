/**
 * Every constraint the served OpenAPI document states about a request is enforced. From one
 * valid request per operation (written here, and checked to succeed first), each constraint of
 * its parameters and JSON body is broken once, read off the document: a wrong type, a required
 * field left out, a number over its maximum or under its minimum, a string too long or too short,
 * a pattern missed, a value outside an enum or a const, an array too short or too long. Each
 * broken request must get `400` with a code and a message that names the field.
 *
 * Two documented exceptions, read off the document too: an event inside a batch is refused alone
 * (docs/protocol.md §3, §4: `invalid_event` in a 200 answer, its siblings counted), and a path
 * that names no resource (an invoice number, an evidence file) is the `404` the operation
 * documents when it documents no 400.
 */
import { describe, expect, it } from 'vitest'
import { ADMIN, NOW, ORIGIN, setup, testConfig } from '../apps/collector/src/testkit.js'

type Json = Record<string, unknown>
type Schema = Json & {
  $ref?: string
  type?: string | string[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  oneOf?: Schema[]
  anyOf?: Schema[]
}
/** `portal`: sent with the billing portal session's cookie and CSRF token (docs/portal.md) instead of a key. */
interface Request {
  path?: Record<string, string>
  query?: Record<string, string>
  body?: unknown
  key: string
  portal?: true
}

const SK = 'sk_acme_secret'
const RK = 'rk_acme_read'
const config = testConfig({
  plans: {
    growth: {
      currency: 'EUR',
      basePrice: 4900,
      freeCredits: 500,
      creditCosts: { sms: 2 },
      creditPacks: { small: { credits: 1000, price: 1000 } },
      emailPacks: { big: { emails: 5000, price: 1500 } },
      portal: { seats: { min: 1, max: 50 }, products: true, creditPacks: true, emailPacks: true, transfers: true, cancel: true, billingDetails: true },
    },
  },
})
const acme = config.accounts.acme!
;(acme as { members?: string[] }).members = ['alice']

/** A valid request of every operation that takes a parameter or a body, by operation id. */
const VALID: Record<string, Request> = {
  postEvents: {
    path: { container: 'ctr_shop' },
    key: '',
    body: { v: 1, sentAt: NOW, sdk: 'tally-js/test', events: [{ id: 'e1', type: 'impression', session: 's_1', campaign: 'cmp_summer', ts: NOW }] },
  },
  postUsage: { key: SK, body: { events: [{ id: 'u1', type: 'action', action: 'sms', quantity: 1, member: 'alice', ts: NOW }] } },
  getUsage: {
    key: RK,
    query: {
      from: '2026-07-01',
      to: '2026-07-20',
      groupBy: 'day,campaign',
      format: 'json',
      container: 'ctr_shop',
      campaign: 'cmp_summer',
      advisor: 'adv_shoes',
      bot: 'bot_help',
    },
  },
  postCreditPurchase: { key: SK, body: { pack: 'small', id: 'p1' } },
  postCreditTransfer: { key: SK, body: { to: 'alice', credits: 1, id: 't1' } },
  postEmailPurchase: { key: SK, body: { pack: 'big', id: 'm1' } },
  adminPostBillingRun: { key: ADMIN, body: { asOf: '2026-07-20T00:00:00Z', account: 'acme' } },
  getInvoice: { key: RK, path: { file: '1' } },
  getCreditLog: { key: RK, query: { wallet: 'account' } },
  getInvoiceEvidence: { key: RK, path: { number: '1', file: 'evidence.csv' } },
  getRejections: { key: RK, query: { since: '2026-07-01', limit: '10', sort: 'count', cursor: 'MA' } },
  adminGetAccount: { key: ADMIN, path: { id: 'acme' } },
  adminPutAccount: { key: ADMIN, path: { id: 'acme' }, body: { ...acme, containers: undefined } },
  adminPatchAccount: { key: ADMIN, path: { id: 'acme' }, body: { name: 'Acme B.V.' } },
  adminGetContainer: { key: ADMIN, path: { id: 'ctr_shop' } },
  adminPutContainer: { key: ADMIN, path: { id: 'ctr_shop' }, body: { ...acme.containers.ctr_shop, account: 'acme' } },
  adminPatchContainer: { key: ADMIN, path: { id: 'ctr_shop' }, body: { domains: ['shop.acme.test'] } },
  adminPostEmailGrant: { key: ADMIN, path: { id: 'acme' }, body: { emails: 10, id: 'g1', note: 'support' } },
  adminPostWebhookEndpoint: { key: ADMIN, path: { id: 'acme' }, body: { url: 'https://hooks.acme.test/tally' } },
  adminGetWebhookEndpoints: { key: ADMIN, path: { id: 'acme' } },
  adminDeleteWebhookEndpoint: { key: ADMIN, path: { id: 'acme', endpoint: 'we_0000000000000000' } },
  adminGetWebhookDeliveries: { key: ADMIN, path: { id: 'acme' }, query: { limit: '10', before: '5' } },
  adminPostWebhookRedelivery: { key: ADMIN, path: { id: 'acme', event: 'evt_000000000000000000000000' } },
  getDashboardAsset: { key: '', path: { file: 'app.css' } },
  // The billing portal (docs/portal.md): in this order, each once (a change, then a cancellation and its undoing).
  createPortalSession: { key: SK, body: { member: 'alice', returnUrl: 'https://app.acme.test/billing' } },
  getPortalCreditLog: { key: '', portal: true, query: { wallet: 'account', type: 'purchase', from: '2026-07-01', to: '2026-07-20', limit: '10' } },
  previewPortalChange: { key: '', portal: true, body: { seats: 7 } },
  confirmPortalChange: { key: '', portal: true, body: { seats: 7, key: 'change-0001' } },
  cancelPortalSubscription: { key: '', portal: true, body: { key: 'cancel-0001' } },
  resumePortalSubscription: { key: '', portal: true, body: { key: 'resume-0001' } },
  buyPortalCredits: { key: '', portal: true, body: { pack: 'small', key: 'credits-0001' } },
  buyPortalEmails: { key: '', portal: true, body: { pack: 'big', key: 'emails-0001' } },
  transferPortalCredits: { key: '', portal: true, body: { to: 'alice', credits: 1, key: 'transfer-0001' } },
  putPortalBillingDetails: {
    key: '',
    portal: true,
    body: { company: 'Acme B.V.', address: 'Dam 1\nAmsterdam', taxId: 'NL123', email: 'billing@acme.test', key: 'details-0001' },
  },
  reportInvoicePayment: { key: SK, path: { number: '1' }, body: { id: 'r1', status: 'paid', reference: 'ch_1', date: '2026-07-12' } },
  adminReportInvoicePayment: {
    key: ADMIN,
    path: { id: 'acme', number: '1' },
    body: { status: 'paid', at: '2026-07-12T10:00:00Z', reference: 'ch_2', id: 'r2' },
  },
}
/** An admin mirror of an account read takes the read's request, with the account in the path. */
const requestOf = (operationId: string, mirror: boolean): Request | undefined => {
  if (VALID[operationId]) return VALID[operationId]
  const base = /^admin(.)(.*)$/.exec(operationId)
  const read = base && mirror ? (VALID[`${base[1]!.toLowerCase()}${base[2]}`] ?? { key: RK }) : undefined
  return read && { ...read, key: ADMIN, path: { id: 'acme', ...read.path } }
}

/** One broken request: where, what was broken, and the field the answer must name. */
interface Broken {
  what: string
  field: string
  inEvent: boolean
  mutate: (r: Request) => void
}

const NOT_A_MATCH = ['', ' ', 'a b', '\n', '../x', '!'.repeat(65)]

/** The ways to break a value of schema `s`; `set(v)` puts a value in its place, `drop()` leaves it out. */
function breaks(
  doc: Json,
  s: Schema,
  value: unknown,
  field: string,
  inEvent: boolean,
  set: (v: unknown) => (r: Request) => void,
  textual: boolean,
  events = false,
): Broken[] {
  s = resolve(doc, s)
  const out: Broken[] = []
  const add = (what: string, v: unknown) => out.push({ what, field, inEvent, mutate: set(v) })
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
  if (!textual && types.length && !types.includes('null'))
    add(`a ${types.includes('string') ? 'number' : 'string'} for ${types.join('|')}`, types.includes('string') ? 12345 : 'text')
  if (textual && (types.includes('integer') || types.includes('number'))) add('a word for a number', 'many')
  if (typeof s.maximum === 'number' && s.maximum < 1e15) add(`over its maximum ${s.maximum}`, textual ? String(s.maximum + 1) : s.maximum + 1)
  if (typeof s.minimum === 'number' && s.minimum > -1e15) add(`under its minimum ${s.minimum}`, textual ? String(s.minimum - 1) : s.minimum - 1)
  if (typeof s.maxLength === 'number') add(`longer than ${s.maxLength}`, 'a'.repeat(s.maxLength + 1))
  if (typeof s.minLength === 'number' && s.minLength > 0) add(`shorter than ${s.minLength}`, '')
  if (typeof s.pattern === 'string') {
    const re = new RegExp(s.pattern as string, 'u')
    // A path segment cannot be empty: that is another route.
    const miss = NOT_A_MATCH.find((x) => !re.test(x) && !(textual && x === ''))
    if (miss !== undefined) add(`missing the pattern ${s.pattern}`, miss)
  }
  if (s.format === 'date') add('not a calendar date', '2026-02-30')
  if (Array.isArray(s.enum)) add('outside its enum', 'not-one-of-them')
  if (s.const !== undefined) add(`other than its const ${JSON.stringify(s.const)}`, typeof s.const === 'number' ? (s.const as number) + 1 : 'not-the-const')
  if (types.includes('array') && Array.isArray(value)) {
    if (typeof s.minItems === 'number' && s.minItems > 0) add(`with fewer than ${s.minItems} items`, [])
    if (typeof s.maxItems === 'number')
      add(
        `with more than ${s.maxItems} items`,
        Array.from({ length: (s.maxItems as number) + 1 }, () => value[0]),
      )
    if (s.items && value.length > 0) {
      const arr = value
      // The events of a batch are refused one by one; any other array item is a field of the request.
      const perEvent = events && field === 'events'
      out.push(...breaks(doc, s.items, arr[0], field, inEvent || perEvent, (v) => set([v, ...arr.slice(1)]), false))
    }
  }
  const branches = s.oneOf ?? s.anyOf
  if (branches && typeof value === 'object' && value !== null) {
    // The branch the valid value takes (by its `type`, the union's discriminator).
    const branch = branches
      .map((b) => resolve(doc, b))
      .find((b) => b.properties?.type && (resolve(doc, b.properties.type) as Json).const === (value as Json).type)
    if (branch) out.push(...breaks(doc, branch, value, field, inEvent, set, false))
  }
  if (s.properties && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const obj = value as Json
    for (const [key, sub] of Object.entries(s.properties)) {
      const name = inEvent ? key : field ? `${field}.${key}` : key
      const put = (v: unknown) => set({ ...obj, [key]: v })
      if (s.required?.includes(key) && !(key === 'type' && inEvent)) {
        out.push({ what: 'left out', field: name, inEvent, mutate: set(Object.fromEntries(Object.entries(obj).filter(([k]) => k !== key))) })
      }
      if (obj[key] !== undefined && key !== 'type') out.push(...breaks(doc, sub, obj[key], name, inEvent, put, false, events))
    }
  }
  return out
}

function resolve(doc: Json, s: Schema): Schema {
  while (s.$ref) s = (doc.components as { schemas: Record<string, Schema> }).schemas[s.$ref.replace('#/components/schemas/', '')]!
  return s
}

/** The manager's portal session the `portal` requests carry: its cookie and the page's CSRF token. */
const portalSession = { cookie: '', csrf: '' }

async function send(app: ReturnType<typeof setup>['app'], method: string, path: string, r: Request, contentType: string): Promise<Response> {
  let url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(r.path?.[name] ?? ''))
  const q = new URLSearchParams(r.query ?? {}).toString()
  if (q) url += `?${q}`
  const headers: Record<string, string> = { origin: ORIGIN }
  if (r.key) headers.authorization = `Bearer ${r.key}`
  // The portal's page is served by the collector itself: its writes come from the collector's own origin.
  if (r.portal) Object.assign(headers, { cookie: `tally_portal=${portalSession.cookie}`, 'x-tally-csrf': portalSession.csrf, origin: 'http://localhost' })
  if (r.body !== undefined) headers['content-type'] = contentType
  return app.request(url, { method: method.toUpperCase(), headers, ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }) })
}

const clone = (r: Request): Request => structuredClone({ ...r, body: r.body === undefined ? undefined : JSON.parse(JSON.stringify(r.body)) })

describe('the served OpenAPI document, each request constraint broken once', async () => {
  const { app } = setup({ config })
  // Invoice 1 exists, so that its reads and its evidence answer.
  expect((await app.request('/v1/admin/billing/run', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: '{}' })).status).toBe(200)
  const link = (await (await app.request('/v1/portal/sessions', { method: 'POST', headers: { authorization: `Bearer ${SK}` }, body: '{}' })).json()) as {
    url: string
  }
  const opened = await app.request(new URL(link.url).pathname + new URL(link.url).search)
  portalSession.cookie = /tally_portal=([^;]+)/.exec(opened.headers.get('set-cookie') ?? '')?.[1] ?? ''
  const page = await (await app.request('/portal', { headers: { cookie: `tally_portal=${portalSession.cookie}` } })).text()
  portalSession.csrf = /name="tally-csrf" content="([^"]+)"/.exec(page)?.[1] ?? ''
  expect(portalSession.csrf).not.toBe('')
  const doc = (await (await app.request('/openapi.json')).json()) as Json & {
    paths: Record<
      string,
      Record<
        string,
        Json & { operationId: string; parameters?: Json[]; requestBody?: { content: Record<string, { schema: Schema }> }; responses: Record<string, unknown> }
      >
    >
  }

  const cases: Array<[string, string, string, Request, Broken, string, boolean]> = []
  const uncovered: string[] = []
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op.parameters ?? []) as Array<{ name: string; in: string; schema: Schema; required: boolean }>
      const [contentType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? ['', undefined]
      const json = contentType === 'application/json' || contentType === 'text/plain'
      const constrained = params.some((p) => Object.keys(p.schema).some((k) => k !== 'type')) || (json && media)
      if (!constrained) continue
      const base = requestOf(op.operationId, /^\/v1\/admin\/accounts\/\{id\}\//.test(path) && method === 'get')
      if (!base) {
        uncovered.push(op.operationId)
        continue
      }
      // An admin mirror's 400 is about its account id; the read it mirrors says what its own parameters get.
      const own = /^admin(.)(.*)$/.exec(op.operationId)
      const read = own
        ? Object.values(doc.paths)
            .flatMap((o) => Object.values(o))
            .find((o) => o.operationId === `${own[1]!.toLowerCase()}${own[2]}`)
        : undefined
      const documents400 = (b: Broken) => '400' in (b.field !== 'id' && read ? read : op).responses
      const found: Broken[] = []
      for (const p of params) {
        const where = p.in === 'path' ? 'path' : 'query'
        const value = where === 'path' ? base.path?.[p.name] : base.query?.[p.name]
        const set = (v: unknown) => (r: Request) => {
          const bag = { ...(where === 'path' ? r.path : r.query) }
          if (v === undefined) delete bag[p.name]
          else bag[p.name] = String(v)
          if (where === 'path') r.path = bag
          else r.query = bag
        }
        found.push(...breaks(doc, p.schema, value, p.name, false, set, true).filter((b) => !(where === 'path' && b.what.startsWith('shorter'))))
      }
      const events = op.operationId === 'postEvents' || op.operationId === 'postUsage'
      if (json && media)
        found.push(
          ...breaks(
            doc,
            media.schema,
            base.body,
            '',
            false,
            (v) => (r) => {
              r.body = v
            },
            false,
            events,
          ),
        )
      for (const b of found) cases.push([op.operationId, method, path, base, b, contentType, documents400(b)])
    }
  }

  it('has a valid request for every operation that states a constraint', () => {
    expect(uncovered).toEqual([])
    expect(cases.length).toBeGreaterThan(150)
  })

  it.each(Object.keys(VALID))('answers the valid request of %s with a 2xx', async (operationId) => {
    const entry = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })))
      .find((e) => e.op.operationId === operationId)
    expect(entry, operationId).toBeDefined()
    const r = VALID[operationId]!
    const res = await send(app, entry!.method, entry!.path, r, Object.keys(entry!.op.requestBody?.content ?? {})[0] ?? '')
    // The delete, redeliver and evidence of ids no test made are 404s: the parameters passed, the thing is not there.
    const missing = ['adminDeleteWebhookEndpoint', 'adminPostWebhookRedelivery'].includes(operationId)
    if (missing) expect(res.status).toBe(404)
    else expect([200, 201], `${operationId}: ${await res.clone().text()}`).toContain(res.status)
  })

  it.each(cases.map(([id, method, path, base, b, type, d400]) => [`${id}: ${b.field || 'the body'} ${b.what}`, method, path, base, b, type, d400] as const))(
    '%s',
    async (_name, method, path, base, b, contentType, documents400) => {
      const r = clone(base)
      b.mutate(r)
      const res = await send(app, method, path, r, contentType)
      const body = (await res.json()) as Json & {
        error?: { code: string; message: string }
        rejected?: Array<{ code: string }>
        results?: Array<{ status: string; code: string }>
      }
      if (b.inEvent) {
        // One event is refused alone, with its code; the envelope was fine.
        expect(res.status).toBe(200)
        const code = body.rejected?.[0]?.code ?? body.results?.[0]?.code
        expect(code, JSON.stringify(body)).toBe('invalid_event')
        return
      }
      if (path.includes(`{${b.field}}`) && !documents400) {
        // A path that names no resource, where the operation documents no 400.
        expect(res.status, JSON.stringify(body)).toBe(404)
        return
      }
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(body.error?.code).toMatch(/^invalid_(request|batch)$/)
      // The field by name; the body as a whole is named by what it should have been.
      if (b.field) expect(body.error?.message, JSON.stringify(body)).toContain(b.field.split('.').pop())
      else expect(body.error?.message).toMatch(/object/)
    },
  )
})
