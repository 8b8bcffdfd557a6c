import { describe, expect, it } from 'vitest'
import { setup } from '../testkit.js'
import { openApiDocument } from './openapi.js'

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
    const registered = app.routes.filter((r) => r.method !== 'ALL')
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
    expect(usage.parameters.map((p: { name: string }) => p.name)).toEqual(['from', 'to', 'groupBy', 'format'])
    expect(usage.security).toEqual([{ accountKey: [] }, { dashboardSession: [] }])
    const adminUsage = doc.paths['/v1/admin/accounts/{id}/usage'].get
    expect(adminUsage.security).toEqual([{ adminToken: [] }])
    expect(adminUsage.parameters[0]).toEqual({ name: 'id', in: 'path', required: true, schema: { type: 'string' } })
  })

  it('resolves every schema reference', async () => {
    const { app } = setup()
    const text = await (await app.request('/openapi.json')).text()
    const doc = JSON.parse(text)
    for (const m of text.matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)) expect(doc.components.schemas, m[1]).toHaveProperty(m[1] as string)
  })
})
