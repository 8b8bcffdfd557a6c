/**
 * The served OpenAPI document against live answers. An app with real data (beacons, server
 * usage, a credit purchase and transfer, a billing run, a refused beacon) answers every GET route
 * (the account reads, their admin mirrors, operations, the dashboard) with and without keys, with
 * bad queries, with its storage failing and with an unexpected failure; each answer, success or
 * error, must be one the document gives for that operation: its status, its media type, a body
 * valid against that media type's schema (ajv, JSON Schema 2020-12, `$ref`s to
 * `#/components/schemas/…` resolved) and its required headers. The POST answers met on the way
 * are held to the same (they are made by api-contract.seed.ts, with this file's `check`).
 *
 * Objects of the document are held closed here (`unevaluatedProperties: false` wherever a schema
 * names its properties), so a field an answer carries and the document does not name fails too;
 * the served document stays open to additions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import type { ValidateFunction } from 'ajv/dist/2020.js'
import { ADMIN, setup } from '../apps/collector/src/testkit.js'
import { UNLISTED } from '../apps/collector/src/routes/api/document.js'
import { openSqliteStore } from '../apps/collector/src/storage.js'
import { AUTH_FAILURES } from '../apps/collector/src/middleware/throttle.js'
import {
  GONE_RK,
  ORIGIN,
  READS,
  SK,
  acme,
  bearer,
  contractConfig,
  failingStore,
  mirrored,
  problemsOf,
  validatorsOf,
  type Call,
  type Doc,
  type Json,
} from './api-contract.fixtures.js'
import { writeData } from './api-contract.seed.js'

describe('live answers against the served OpenAPI document', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-openapi-contract-'))
  const sdkScript = join(dir, 't.js')
  writeFileSync(sdkScript, 'window.tally=window.tally||function(){}\n')
  writeFileSync(join(dir, 't.debug.js'), 'window.tally=window.tally||function(){}\n')
  writeFileSync(join(dir, 'sdk.mjs'), 'export const createTracker = () => ({})\n')
  const failing = failingStore(openSqliteStore({ file: ':memory:' }))
  const t = setup({ config: contractConfig(), store: failing.store, sdkScript })
  const { app } = t
  let doc: Doc
  let compile: (s: Json) => ValidateFunction
  /** Statuses seen per `METHOD path` of the document, for the coverage check. */
  const seen = new Map<string, Set<string>>()
  const calls: Record<string, Call[]> = {}
  let cookie = ''

  /** Makes a call, checks its status and its conformance, and notes it. */
  async function check(method: string, path: string, res: Response, expected: number, what: string) {
    const problems = await problemsOf(doc, compile, method, path, res)
    expect({ what, status: res.status, problems }).toEqual({ what, status: expected, problems: [] })
    const key = `${method} ${path}`
    if (!seen.has(key)) seen.set(key, new Set())
    seen.get(key)?.add(res.status === 500 ? 'default' : String(res.status))
  }
  // Each call from its own address: the refusals this suite makes on purpose (wrong keys) would
  // otherwise reach the per-address limit on failed key checks (docs/security.md), which answers 429.
  let caller = 0
  const from = () => ({ incoming: { socket: { remoteAddress: `10.${(++caller >> 16) & 255}.${(caller >> 8) & 255}.${caller & 255}` } } })
  const get = (c: Call) => app.request(c.path, { headers: c.headers ?? {} }, from())
  const post = (path: string, body: unknown, headers: Record<string, string> = {}, method = 'POST') =>
    app.request(
      path,
      { method, headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) },
      from(),
    )

  beforeAll(async () => {
    doc = (await (await app.request('/openapi.json')).json()) as Doc
    compile = validatorsOf(doc)

    // The writes first (api-contract.seed.ts): a webhook endpoint, so the facts they make fill its delivery log.
    const hooks = '/v1/admin/accounts/acme/webhooks'
    cookie = await writeData({ t, from, post, check }, hooks)

    const etag = (await app.request('/t.js')).headers.get('etag') ?? ''
    const sdkCalls = async (path: string) => {
      const tag = (await app.request(path)).headers.get('etag') ?? ''
      return [
        { path, status: 200 },
        { path, headers: { 'if-none-match': tag }, status: 304 },
      ]
    }
    // Billing portal sessions (docs/portal.md): the manager's, a member's, and one of the cancelled account.
    const portalLink = async (secret: string, body: unknown = {}) => {
      const res = await app.request('/v1/portal/sessions', {
        method: 'POST',
        headers: { ...bearer(secret), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      await check('post', '/v1/portal/sessions', res.clone(), 200, 'portal session')
      const url = new URL(((await res.json()) as { url: string }).url)
      return `${url.pathname}${url.search}`
    }
    const portalCookie = async (secret: string, body: unknown = {}) => {
      const opened = await app.request(await portalLink(secret, body))
      return { cookie: (opened.headers.get('set-cookie') ?? '').split(';')[0] ?? '' }
    }
    const manager = await portalCookie(SK)
    const member = await portalCookie(SK, { member: 'alice' })
    const gone = await portalCookie('sk_gone_secret')
    await check(
      'post',
      '/v1/portal/sessions',
      await app.request('/v1/portal/sessions', { method: 'POST', headers: acme, body: '{}' }),
      403,
      'portal session with the read key',
    )
    await check(
      'post',
      '/v1/portal/sessions',
      await app.request('/v1/portal/sessions', { method: 'POST', headers: bearer(SK), body: '{"member":"mallory"}' }),
      400,
      'portal session for no member',
    )
    await check('post', '/v1/portal/sessions', await app.request('/v1/portal/sessions', { method: 'POST', body: '{}' }), 401, 'portal session without a key')
    Object.assign(calls, {
      '/portal/open': [
        { path: await portalLink(SK), status: 200 },
        { path: '/portal/open?token=nope', status: 401 },
      ],
      '/portal': [
        { path: '/portal', headers: manager, status: 200 },
        { path: '/portal', status: 401 },
        { path: '/portal', headers: { accept: 'text/html' }, status: 401 },
      ],
      '/portal/assets/{file}': [
        { path: '/portal/assets/portal.css', status: 200 },
        { path: '/portal/assets/secrets.txt', status: 404 },
      ],
      '/v1/portal/state': [
        { path: '/v1/portal/state', headers: manager, status: 200 },
        { path: '/v1/portal/state', headers: member, status: 200 },
        { path: '/v1/portal/state', headers: gone, status: 404 },
        { path: '/v1/portal/state', status: 401 },
      ],
      '/v1/portal/credits/log': [
        { path: '/v1/portal/credits/log?type=purchase', headers: manager, status: 200 },
        { path: '/v1/portal/credits/log?type=bogus', headers: manager, status: 400 },
        { path: '/v1/portal/credits/log?wallet=account', headers: member, status: 403 },
        { path: '/v1/portal/credits/log', status: 401 },
      ],
      '/v1/portal/invoices/{file}': [
        { path: '/v1/portal/invoices/1.json', headers: manager, status: 200 },
        { path: '/v1/portal/invoices/1.csv', headers: manager, status: 200 },
        { path: '/v1/portal/invoices/1.pdf', headers: member, status: 403 },
        { path: '/v1/portal/invoices/99.pdf', headers: manager, status: 404 },
        { path: '/v1/portal/invoices/1.pdf', status: 401 },
      ],
      '/v1/notices': [
        { path: '/v1/notices', headers: acme, status: 200 },
        { path: '/v1/notices', status: 401 },
      ],
      '/healthz': [{ path: '/healthz', status: 200 }],
      '/readyz': [{ path: '/readyz', status: 200 }],
      '/metrics': [{ path: '/metrics', status: 200 }],
      '/openapi.json': [{ path: '/openapi.json', status: 200 }],
      '/t.js': [
        { path: '/t.js', status: 200 },
        { path: '/t.js', headers: { 'if-none-match': etag }, status: 304 },
      ],
      '/t.debug.js': await sdkCalls('/t.debug.js'),
      '/sdk.mjs': await sdkCalls('/sdk.mjs'),
      '/dashboard': [
        { path: '/dashboard', status: 200 },
        { path: '/dashboard', headers: { cookie }, status: 200 },
      ],
      '/dashboard/assets/{file}': [
        { path: '/dashboard/assets/app.js', status: 200 },
        { path: '/dashboard/assets/uPlot.min.css', status: 200 },
        { path: '/dashboard/assets/favicon.svg', status: 200 },
        { path: '/dashboard/assets/secrets.txt', status: 404 },
      ],
      '/v1/admin/accounts/{id}/webhooks': [
        { path: hooks, headers: bearer(ADMIN), status: 200 },
        { path: hooks, headers: acme, status: 401 },
        { path: '/v1/admin/accounts/nobody/webhooks', headers: bearer(ADMIN), status: 404 },
        { path: '/v1/admin/accounts/a%0D%0Ab/webhooks', headers: bearer(ADMIN), status: 400 },
      ],
      '/v1/admin/accounts/{id}/webhooks/deliveries': [
        { path: `${hooks}/deliveries`, headers: bearer(ADMIN), status: 200 },
        { path: `${hooks}/deliveries?limit=1`, headers: bearer(ADMIN), status: 200 },
        { path: `${hooks}/deliveries?limit=0`, headers: bearer(ADMIN), status: 400 },
        { path: `${hooks}/deliveries?page=2`, headers: bearer(ADMIN), status: 400 },
        { path: `${hooks}/deliveries`, status: 401 },
        { path: '/v1/admin/accounts/nobody/webhooks/deliveries', headers: bearer(ADMIN), status: 404 },
      ],
      ...READS,
      '/v1/usage': [...(READS['/v1/usage'] ?? []), { path: '/v1/usage?groupBy=campaign', headers: { cookie }, status: 200 }],
      '/v1/period': [...(READS['/v1/period'] ?? []), { path: '/v1/period', headers: bearer(GONE_RK), status: 404 }],
      ...Object.fromEntries(Object.entries(READS).map(([path, list]) => [path.replace(/^\/v1\//, '/v1/admin/accounts/{id}/'), mirrored(list)])),
    } satisfies Record<string, Call[]>)
    // The configuration in force, as the admin reads it.
    Object.assign(calls, {
      '/v1/admin/accounts': [
        { path: '/v1/admin/accounts', headers: bearer(ADMIN), status: 200 },
        { path: '/v1/admin/accounts', headers: acme, status: 401 },
      ],
      '/v1/admin/accounts/{id}': [
        { path: '/v1/admin/accounts/acme', headers: bearer(ADMIN), status: 200 },
        { path: '/v1/admin/accounts/acme', status: 401 },
        { path: '/v1/admin/accounts/nobody', headers: bearer(ADMIN), status: 404 },
        { path: '/v1/admin/accounts/a%0D%0Ab', headers: bearer(ADMIN), status: 400 },
      ],
      '/v1/admin/accounts/{id}/history': [
        { path: '/v1/admin/accounts/acme/history', headers: bearer(ADMIN), status: 200 },
        { path: '/v1/admin/accounts/acme/history', headers: acme, status: 401 },
        { path: '/v1/admin/accounts/nobody/history', headers: bearer(ADMIN), status: 404 },
        { path: '/v1/admin/accounts/acme/history?limit=0', headers: bearer(ADMIN), status: 400 },
      ],
      '/v1/admin/containers/{id}': [
        { path: '/v1/admin/containers/ctr_shop', headers: bearer(ADMIN), status: 200 },
        { path: '/v1/admin/containers/ctr_shop', headers: acme, status: 401 },
        { path: '/v1/admin/containers/ctr_nope', headers: bearer(ADMIN), status: 404 },
        { path: '/v1/admin/containers/c%0A', headers: bearer(ADMIN), status: 400 },
      ],
    } satisfies Record<string, Call[]>)
    calls['/v1/admin/accounts/{id}/period']?.push({ path: '/v1/admin/accounts/gone/period', headers: bearer(ADMIN), status: 404 })
  })

  afterAll(async () => {
    await t.store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('has a call for every GET route the app registers and the document lists', () => {
    const documented = Object.entries(doc.paths)
      .filter(([, ops]) => 'get' in ops)
      .map(([path]) => path)
      .sort()
    expect(Object.keys(calls).sort()).toEqual(documented)
    const registered = app.routes
      .filter((r) => r.method === 'GET' && !Object.hasOwn(UNLISTED, `GET ${r.path}`))
      .map((r) => r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'))
    expect([...new Set(registered)].sort()).toEqual(documented)
  })

  it('answers every GET call as the document says, successes and refusals', async () => {
    for (const [path, list] of Object.entries(calls)) {
      for (const c of list) await check('get', path, await get(c), c.status, `GET ${c.path}`)
    }
    // The one unlisted route: the trailing-slash redirect that GET /dashboard describes.
    const slash = await app.request('/dashboard/')
    expect([slash.status, slash.headers.get('location')]).toEqual([301, '/dashboard'])
  })

  it('answers 503 where storage fails and the documented 500 on an unexpected failure', async () => {
    for (const [how, status] of [
      ['unavailable', 503],
      ['broken', 500],
    ] as const) {
      failing.fail(how)
      try {
        for (const [path, list] of Object.entries(calls)) {
          const c = list.find((x) => x.status === 200) as Call
          const res = await get(c)
          // Routes that never touch storage answer as before; the others fail as documented.
          await check('get', path, res, res.status === 200 || res.status === 304 ? res.status : status, `GET ${c.path} (${how})`)
        }
      } finally {
        failing.fail(null)
      }
    }
    const unbuilt = setup({ config: contractConfig(), sdkScript: join(dir, 'not-built', 't.js') })
    for (const path of ['/t.js', '/t.debug.js', '/sdk.mjs']) {
      await check('get', path, await unbuilt.app.request(path), 503, `GET ${path}, not built`)
    }
    await unbuilt.store.close()
  })

  it('answers 431 from the HTTP server to over-large headers, on every route', async () => {
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server))
    })
    try {
      const { port } = server.address() as AddressInfo
      const filler = { 'x-filler': 'x'.repeat(20_000) }
      for (const [path, list] of Object.entries(calls)) {
        const c = list[0] as Call
        await check(
          'get',
          path,
          await fetch(`http://127.0.0.1:${port}${c.path}`, { headers: { ...c.headers, ...filler } }),
          431,
          `GET ${c.path} with 20 kB of headers`,
        )
      }
      const beacon = await fetch(`http://127.0.0.1:${port}/v1/containers/ctr_shop/events`, {
        method: 'POST',
        headers: { origin: ORIGIN, ...filler },
        body: '{}',
      })
      await check('post', '/v1/containers/{container}/events', beacon, 431, 'beacon with 20 kB of headers')
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('answers 429 and Retry-After on every read that needs a key, to an address with too many failed key checks', async () => {
    const guesser = { incoming: { socket: { remoteAddress: '192.0.2.77' } } }
    // The failures an address may make at once (middleware/throttle.ts); the next request that needs a key is refused.
    for (let i = 0; i < AUTH_FAILURES.burst; i++) expect((await app.request('/v1/usage', { headers: bearer('rk_wrong') }, guesser)).status).toBe(401)
    const keyed = Object.entries(calls).filter(([path]) => path.startsWith('/v1/') && !path.startsWith('/v1/containers/'))
    expect(keyed.length).toBeGreaterThan(10)
    for (const [path, list] of keyed) {
      const c = (list.find((x) => x.status === 200) ?? list[0]) as Call
      const res = await app.request(c.path, { headers: c.headers ?? {} }, guesser)
      expect(res.headers.get('retry-after'), `GET ${c.path}`).toMatch(/^[1-9]\d*$/)
      await check('get', path, res, 429, `GET ${c.path} from a throttled address`)
    }
  })

  it('has met every answer each GET operation documents', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      const op = ops.get
      if (!op) continue
      const storage = JSON.stringify(op.responses[503] ?? '').includes('storage')
      const expected = Object.keys(op.responses)
        .filter((s) => s !== 'default' || storage)
        .sort()
      expect([path, [...(seen.get(`get ${path}`) ?? [])].sort()]).toEqual([path, expected])
    }
  })
})
