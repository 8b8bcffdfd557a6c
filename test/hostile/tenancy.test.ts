/**
 * The tenancy matrix over every route of the served OpenAPI document (docs/protocol.md §5: a key
 * of account A never reads account B): no key, malformed keys, the admin token, and each
 * account's read and secret key, against what each route's `security` says. A key that may not
 * act is a 401 (a read key on a write: 403) and changes nothing; another account's key sees none of acme's data.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, batch, impression, setup } from '../../apps/collector/src/testkit.js'

type Op = { method: string; path: string; schemes: string[] }
const s = setup()
let ops: Op[] = []
beforeAll(async () => {
  // acme has data of every kind a read could leak: a refusal, units, a usage event.
  await s.post(batch([impression()]))
  await s.post(batch([impression()]), { origin: 'https://leak-marker.test' })
  await s.app.request('/v1/usage', {
    method: 'POST',
    headers: { authorization: 'Bearer sk_acme_secret' },
    body: JSON.stringify({ events: [{ id: 'leak-marker-usage', type: 'alert', ts: Date.UTC(2026, 6, 20, 11) }] }),
  })
  const doc = (await (await s.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>> }
  ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, schemes: (op.security ?? []).flatMap((x) => Object.keys(x)) })),
  )
})

const concrete = (p: string) =>
  p.replace('/v1/admin/containers/{id}', '/v1/admin/containers/ctr_shop').replace('{id}', 'acme').replace('{container}', 'ctr_shop').replace('{file}', '1.json')

const credentials: Array<[string, Record<string, string>]> = [
  ['no key', {}],
  ['an empty bearer', { authorization: 'Bearer ' }],
  ['a made-up key', { authorization: 'Bearer sk_made_up_key' }],
  ['a Basic header', { authorization: 'Basic c2tfYWNtZV9zZWNyZXQ6' }],
  ['a 5 KB key', { authorization: `Bearer ${'k'.repeat(5_000)}` }],
  ['the admin token', { authorization: `Bearer ${ADMIN}` }],
  ["acme's read key", { authorization: 'Bearer rk_acme_read' }],
  ["acme's secret key", { authorization: 'Bearer sk_acme_secret' }],
  ["dormant's read key", { authorization: 'Bearer rk_dormant_read' }],
  ["dormant's secret key", { authorization: 'Bearer sk_dormant_secret' }],
]

/** May this credential act on a route secured by these schemes (on acme's data where it names an account)? */
function allowed(schemes: string[], who: string): 'acme' | 'other' | false {
  if (schemes.includes('adminToken')) return who === 'the admin token' ? 'acme' : false
  const acme = who.startsWith('acme')
  const dormant = who.startsWith('dormant')
  if (schemes.includes('secretKey')) return who === "acme's secret key" ? 'acme' : who === "dormant's secret key" ? 'other' : false
  if (schemes.includes('accountKey')) return acme ? 'acme' : dormant ? 'other' : false
  return false
}

describe('the tenancy matrix', () => {
  it('holds for every secured route of the served document and every credential', async () => {
    const secured = ops.filter((o) => o.schemes.length > 0)
    expect(secured.length).toBeGreaterThanOrEqual(20)
    const stored = () =>
      s.count(
        'SELECT (SELECT COUNT(*) FROM usage_events) + (SELECT COUNT(*) FROM ledger) + (SELECT COUNT(*) FROM config_changes) + (SELECT COUNT(*) FROM config_versions) + (SELECT COUNT(*) FROM account_facts) + (SELECT COUNT(*) FROM invoices) AS n',
      )
    let checked = 0
    for (const op of secured) {
      for (const [who, headers] of credentials) {
        const before = stored()
        // Each call from its own address: the matrix fails keys on purpose, more often than the
        // per-address limit on failed key checks allows one client (docs/security.md).
        const res = await s.app.request(
          concrete(op.path),
          { method: op.method, headers: { 'content-type': 'application/json', ...headers }, ...(op.method === 'GET' ? {} : { body: '{}' }) },
          { incoming: { socket: { remoteAddress: `10.9.${(checked >> 8) & 255}.${checked & 255}` } } },
        )
        const verdict = allowed(op.schemes, who)
        const label = `${op.method} ${op.path} with ${who}: ${res.status}`
        expect(res.status, label).toBeLessThan(500)
        if (verdict === false) {
          // A read key on a write is known but not enough: 403; anything else is no key at all: 401.
          const readOnWrite = op.schemes.includes('secretKey') && who.endsWith('read key')
          expect(res.status, label).toBe(readOnWrite ? 403 : 401)
          expect(((await res.json()) as { error: { code: string } }).error.code, label).toBe(readOnWrite ? 'forbidden' : 'unauthorized')
          expect(stored(), label).toBe(before)
        } else {
          expect(res.status, label).not.toBe(401)
          if (verdict === 'other') {
            const text = await res.text()
            for (const marker of ['leak-marker', 'ctr_shop', 'cmp_summer', 'sk_acme', 'rk_acme']) expect(text, label).not.toContain(marker)
          }
        }
        checked++
      }
    }
    expect(checked).toBe(secured.length * credentials.length)
  })
})
