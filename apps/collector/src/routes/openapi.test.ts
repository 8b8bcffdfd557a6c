import { describe, expect, it } from 'vitest'
import { setup, testConfig } from '../testkit.js'
import { adminOperationId, openApiDocument, OPERATIONS, UNLISTED } from './api/document.js'

const openPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document served without a key', async () => {
    const { app } = setup()
    const res = await app.request('/openapi.json')
    expect(res.status).toBe(200)
    const doc = await res.json()
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.components.securitySchemes).toHaveProperty('accountKey')
  })

  it('documents every route the app registers, each with a summary of its own', async () => {
    const { app } = setup()
    const doc = await (await app.request('/openapi.json')).json()
    const registered = app.routes.filter((r) => r.method !== 'ALL' && !Object.hasOwn(UNLISTED, `${r.method} ${r.path}`))
    expect(registered.length).toBeGreaterThan(20)
    for (const { method, path } of registered) {
      const op = doc.paths[openPath(path)]?.[method.toLowerCase()]
      expect(op, `${method} ${path}`).toBeDefined()
      expect(op['x-undocumented'], `${method} ${path} has no entry in OPERATIONS`).toBeUndefined()
      expect(op.summary.length, `${method} ${path}`).toBeGreaterThan(3)
    }
  })

  it('lists nothing the app does not register', async () => {
    const { app } = setup()
    const doc = await (await app.request('/openapi.json')).json()
    const registered = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${openPath(r.path)}`))
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) expect(registered.has(`${method} ${path}`), `${method} ${path}`).toBe(true)
    }
  })

  it('leaves out only the registered routes it names, none of the API, and says where they are described', async () => {
    const { app } = setup()
    const doc = await (await app.request('/openapi.json')).json()
    const registered = new Set(app.routes.map((r) => `${r.method} ${r.path}`))
    for (const [route, reason] of Object.entries(UNLISTED)) {
      expect(registered.has(route), `${route} is not registered`).toBe(true)
      expect(route).not.toMatch(/ \/v1\//)
      const [method = '', path = ''] = route.split(' ')
      expect(doc.paths[openPath(path)]?.[method.toLowerCase()], route).toBeUndefined()
      expect(reason.length).toBeGreaterThan(10)
    }
    expect(Object.keys(doc.paths).filter((p) => p.endsWith('/'))).toEqual([])
  })

  it("names every operation with a unique camelCase id; an admin mirror takes its account read's", async () => {
    const { app } = setup()
    const doc = await (await app.request('/openapi.json')).json()
    const ids = new Map<string, string>()
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { operationId: string }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z0-9]*$/)
        expect(ids.get(op.operationId), `${op.operationId} of ${method} ${path}`).toBeUndefined()
        ids.set(op.operationId, `${method} ${path}`)
        const mirrored = /^\/v1\/admin\/accounts\/\{id\}(\/.+)$/.exec(path)
        const base = mirrored && method === 'get' ? doc.paths[`/v1${mirrored[1]}`]?.get : undefined
        if (base) expect(op.operationId, `${method} ${path}`).toBe(adminOperationId(base.operationId))
      }
    }
    expect(adminOperationId('getUsage')).toBe('adminGetUsage')
  })

  it('keeps the operation ids clients are generated with', async () => {
    // A renamed id renames a method of every generated client: these are part of the API.
    const { app } = setup()
    const doc = await (await app.request('/openapi.json')).json()
    const id = (method: string, path: string) => doc.paths[path]?.[method]?.operationId
    expect({
      events: id('post', '/v1/containers/{container}/events'),
      postUsage: id('post', '/v1/usage'),
      getUsage: id('get', '/v1/usage'),
      period: id('get', '/v1/period'),
      invoices: id('get', '/v1/invoices'),
      invoice: id('get', '/v1/invoices/{file}'),
      credits: id('get', '/v1/credits'),
      log: id('get', '/v1/credits/log'),
      rejections: id('get', '/v1/rejections'),
      adminUsage: id('get', '/v1/admin/accounts/{id}/usage'),
      adminInvoice: id('get', '/v1/admin/accounts/{id}/invoices/{file}'),
      run: id('post', '/v1/admin/billing/run'),
    }).toEqual({
      events: 'postEvents',
      postUsage: 'postUsage',
      getUsage: 'getUsage',
      period: 'getPeriod',
      invoices: 'getInvoices',
      invoice: 'getInvoice',
      credits: 'getCredits',
      log: 'getCreditLog',
      rejections: 'getRejections',
      adminUsage: 'adminGetUsage',
      adminInvoice: 'adminGetInvoice',
      run: 'adminPostBillingRun',
    })
    expect(Object.values(OPERATIONS).map((o) => o.operationId)).toContain('postCreditPurchase')
  })

  it('names the origin the request reached as its server, on any port', async () => {
    const { app } = setup()
    const servers = async (url: string, init?: RequestInit, env?: unknown) => (await (await app.request(url, init, env)).json()).servers
    expect(await servers('/openapi.json')).toEqual([expect.objectContaining({ url: 'http://localhost' })])
    expect(await servers('http://127.0.0.1:9999/openapi.json')).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:9999' })])
    expect(await servers('https://tally.acme.test:443/openapi.json')).toEqual([expect.objectContaining({ url: 'https://tally.acme.test' })])
  })

  it('believes X-Forwarded-Proto and X-Forwarded-Host from a trusted proxy only', async () => {
    const { app } = setup({ config: testConfig({ server: { trustedProxies: ['10.0.0.1'] } }) })
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'tally.acme.test' }
    const serverOf = async (remoteAddress: string, headers: Record<string, string> = forwarded) =>
      (await (await app.request('http://127.0.0.1:8787/openapi.json', { headers }, { incoming: { socket: { remoteAddress } } })).json()).servers[0].url
    expect(await serverOf('10.0.0.1')).toBe('https://tally.acme.test')
    expect(await serverOf('::ffff:10.0.0.1')).toBe('https://tally.acme.test')
    expect(await serverOf('10.0.0.1', { 'x-forwarded-proto': 'https, http' })).toBe('https://127.0.0.1:8787')
    expect(await serverOf('203.0.113.9')).toBe('http://127.0.0.1:8787')
    expect(await serverOf('10.0.0.1', { 'x-forwarded-host': 'evil.test/path?x', 'x-forwarded-proto': 'gopher' })).toBe('http://127.0.0.1:8787')
  })

  it('marks a route without an entry as undocumented rather than leaving it out', () => {
    const doc = openApiDocument([{ method: 'GET', path: '/v1/something/:x' }]) as { paths: Record<string, Record<string, Record<string, unknown>>> }
    const op = doc.paths['/v1/something/{x}']?.get
    expect(op?.['x-undocumented']).toBe(true)
    expect(op?.parameters).toEqual([{ name: 'x', in: 'path', required: true, schema: { type: 'string' } }])
  })

  it('describes the usage query from the table the route validates with, and names path parameters', async () => {
    const { app } = setup()
    const doc = await (await app.request('/openapi.json')).json()
    const usage = doc.paths['/v1/usage'].get
    // The report's filters joined the query (docs/api.md): the same table the route checks unknown parameters against.
    expect(usage.parameters.map((p: { name: string }) => p.name)).toEqual(['from', 'to', 'groupBy', 'format', 'container', 'campaign', 'advisor', 'bot'])
    expect(usage.security).toEqual([{ accountKey: [] }, { dashboardSession: [] }])
    const adminUsage = doc.paths['/v1/admin/accounts/{id}/usage'].get
    expect(adminUsage.security).toEqual([{ adminToken: [] }])
    expect(adminUsage.parameters[0]).toEqual({
      name: 'id',
      in: 'path',
      required: true,
      description: 'The account id.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' },
    })
  })

  it('resolves every schema reference', async () => {
    const { app } = setup()
    const text = await (await app.request('/openapi.json')).text()
    const doc = JSON.parse(text)
    for (const m of text.matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)) expect(doc.components.schemas, m[1]).toHaveProperty(m[1] as string)
  })
})
