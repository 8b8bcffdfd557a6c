/**
 * The writes that give the API contract test (api-contract.test.ts) its real data: a webhook
 * endpoint, beacons, server usage, a credit purchase and transfer, a billing run, admin edits and a
 * dashboard sign-in. Each answer, refusals included, is checked against the document by the test's
 * own `check`, which also notes its status for the coverage check.
 */
import { expect } from 'vitest'
import { ADMIN, NOW, batch, chat, engagement, impression, type setup } from '../apps/collector/src/testkit.js'
import { GONE_RK, RK, SK, acme, bearer, contractConfig } from './api-contract.fixtures.js'

/** What the test lends the writes: its app, its calls (each from its own address) and its check. */
export interface Live {
  t: ReturnType<typeof setup>
  from: () => { incoming: { socket: { remoteAddress: string } } }
  post: (path: string, body: unknown, headers?: Record<string, string>, method?: string) => Response | Promise<Response>
  check: (method: string, path: string, res: Response, expected: number, what: string) => Promise<void>
}

/** Makes the writes on the webhook endpoint path `hooks`; returns the dashboard's session cookie. */
export async function writeData({ t, from, post, check }: Live, hooks: string): Promise<string> {
  const { app } = t
  // A webhook endpoint first, so the facts below fill the delivery log (docs/webhooks.md); nothing listens there.
  await check(
    'post',
    '/v1/admin/accounts/{id}/webhooks',
    await post(hooks, { url: 'https://hooks.acme.test/contract' }, bearer(ADMIN)),
    201,
    'webhook endpoint',
  )
  await check(
    'post',
    '/v1/admin/accounts/{id}/webhooks',
    await post(hooks, { url: 'ftp://hooks.acme.test/hooks' }, bearer(ADMIN)),
    400,
    'webhook endpoint not http',
  )
  await check(
    'post',
    '/v1/admin/accounts/{id}/webhooks',
    await post(hooks, { url: 'http://127.0.0.1:9/hooks' }, bearer(ADMIN)),
    400,
    'webhook endpoint on loopback',
  )
  const spare = (await (await post(hooks, { url: 'https://hooks.acme.test/spare' }, bearer(ADMIN))).json()) as { id: string }
  await check(
    'delete',
    '/v1/admin/accounts/{id}/webhooks/{endpoint}',
    await post(`${hooks}/${spare.id}`, undefined, bearer(ADMIN), 'DELETE'),
    200,
    'endpoint removed',
  )
  await check(
    'delete',
    '/v1/admin/accounts/{id}/webhooks/{endpoint}',
    await post(`${hooks}/${spare.id}`, undefined, bearer(ADMIN), 'DELETE'),
    404,
    'endpoint gone',
  )

  // Beacons: counted, one refused by its origin, one batch that is not JSON.
  const events = batch([impression(), impression('cmp_summer', 's_2'), engagement(), chat('start', NOW), chat('end', NOW + 60_000), impression('cmp_unknown')])
  await check('post', '/v1/containers/{container}/events', await t.post(events), 200, 'beacons')
  await check(
    'post',
    '/v1/containers/{container}/events',
    await t.post(batch([impression()]), { origin: 'https://elsewhere.test' }),
    403,
    'beacon from elsewhere',
  )
  await check('post', '/v1/containers/{container}/events', await t.post('{"v":1,'), 400, 'beacon not JSON')

  // Server usage, credits, the billing run (the first period is billed in advance at its start).
  const usage = {
    events: [
      { id: 'u1', type: 'alert', alert: 'daily-sales', user: 'u_1', ts: NOW },
      { id: 'u2', type: 'action', action: 'sms', quantity: 2, ts: NOW },
      { id: 'u3', type: 'contacts', count: 800, ts: NOW },
      { id: 'u4', type: 'email', count: 10, ts: NOW },
      { id: 'u5', type: 'action', action: 'ai', member: 'alice', ts: NOW },
    ],
  }
  await check('post', '/v1/usage', await post('/v1/usage', usage, bearer(SK)), 200, 'usage')
  await check('post', '/v1/usage', await post('/v1/usage', usage, acme), 403, 'usage with the read key')
  await check('post', '/v1/credits/purchase', await post('/v1/credits/purchase', { pack: 'small', id: 'p1' }, bearer(SK)), 200, 'purchase')
  await check('post', '/v1/credits/transfer', await post('/v1/credits/transfer', { to: 'alice', credits: 50, id: 't1' }, bearer(SK)), 200, 'transfer')
  await check('post', '/v1/emails/purchase', await post('/v1/emails/purchase', { pack: 'big', id: 'e1' }, bearer(SK)), 200, 'email pack')
  await check('post', '/v1/emails/purchase', await post('/v1/emails/purchase', { pack: 'none', id: 'e2' }, bearer(SK)), 400, 'email pack unknown')
  await check(
    'post',
    '/v1/credits/transfer',
    await post('/v1/credits/transfer', { to: 'alice', credits: 1_000_000, id: 't2' }, bearer(SK)),
    200,
    'transfer refused',
  )
  await check(
    'post',
    '/v1/usage',
    await post('/v1/usage', { events: [{ id: 'u6', type: 'action', action: 'ai', member: 'alice', ts: NOW }] }, bearer(SK)),
    200,
    'member action',
  )
  await check('post', '/v1/admin/billing/run', await post('/v1/admin/billing/run', {}, bearer(ADMIN)), 200, 'billing run')
  await check('post', '/v1/admin/billing/run', await post('/v1/admin/billing/run', { asOf: '2099-01-01' }, bearer(ADMIN)), 400, 'billing run ahead')
  await check(
    'post',
    '/v1/admin/accounts/{id}/email-grants',
    await post('/v1/admin/accounts/acme/email-grants', { emails: 100, id: 'g1' }, bearer(ADMIN)),
    200,
    'email grant',
  )
  await check(
    'post',
    '/v1/admin/accounts/{id}/email-grants',
    await post('/v1/admin/accounts/acme/email-grants', { emails: -1, id: 'g2' }, bearer(ADMIN)),
    400,
    'email grant refused',
  )
  const log = (await (await app.request(`${hooks}/deliveries`, { headers: bearer(ADMIN) })).json()) as { deliveries: { event: { id: string } }[] }
  // The purchase and the invoices: payloads the document must describe.
  expect(new Set(log.deliveries.map((d) => (d.event as { type?: string }).type)).size).toBeGreaterThanOrEqual(2)
  const redeliver = (event: string) => post(`${hooks}/deliveries/${event}/redeliver`, undefined, bearer(ADMIN))
  const route = '/v1/admin/accounts/{id}/webhooks/deliveries/{event}/redeliver'
  await check('post', route, await redeliver(log.deliveries.at(-1)?.event.id ?? ''), 202, 'redelivery')
  await check('post', route, await redeliver('evt_none'), 404, 'redelivery of no event')
  const container = { name: 'Acme Shop', domains: ['shop.acme.test'], campaigns: { cmp_summer: {} }, advisors: { adv_shoes: {} }, bots: { bot_help: {} } }
  await check('put', '/v1/admin/containers/{id}', await post('/v1/admin/containers/ctr_shop', container, bearer(ADMIN), 'PUT'), 200, 'container')
  const account = contractConfig().accounts.acme
  await check(
    'put',
    '/v1/admin/accounts/{id}',
    await post('/v1/admin/accounts/acme', { ...account, containers: undefined }, bearer(ADMIN), 'PUT'),
    200,
    'account',
  )
  await check(
    'patch',
    '/v1/admin/containers/{id}',
    await post('/v1/admin/containers/ctr_shop', { campaigns: { cmp_summer: { name: 'Summer sale' } } }, bearer(ADMIN), 'PATCH'),
    200,
    'container patch',
  )
  await check(
    'patch',
    '/v1/admin/containers/{id}',
    await post('/v1/admin/containers/ctr_nope', { name: 'x' }, bearer(ADMIN), 'PATCH'),
    404,
    'container patch, unknown',
  )
  await check('patch', '/v1/admin/accounts/{id}', await post('/v1/admin/accounts/acme', { name: 'Acme Inc.' }, bearer(ADMIN), 'PATCH'), 200, 'account patch')
  await check(
    'patch',
    '/v1/admin/accounts/{id}',
    await post('/v1/admin/accounts/acme', { keys: { read: GONE_RK } }, bearer(ADMIN), 'PATCH'),
    409,
    'account patch, a taken key',
  )

  // The dashboard's sign-in, whose cookie reads like the read key.
  const form = (key: string) =>
    app.request('/dashboard/sign-in', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${key}` }, from())
  const signedIn = await form(RK)
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  await check('post', '/dashboard/sign-in', signedIn, 303, 'sign-in')
  await check('post', '/dashboard/sign-in', await form(SK), 401, 'sign-in with the secret key')
  await check('post', '/dashboard/sign-out', await app.request('/dashboard/sign-out', { method: 'POST' }), 303, 'sign-out')
  const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }
  await check(
    'post',
    '/dashboard/sign-in',
    await app.request('/dashboard/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...crossSite },
      body: `key=${RK}`,
    }),
    403,
    'sign-in from another site',
  )
  await check(
    'post',
    '/dashboard/sign-out',
    await app.request('/dashboard/sign-out', { method: 'POST', headers: crossSite }),
    403,
    'sign-out from another site',
  )
  expect(cookie).toMatch(/^tally_session=/)
  return cookie
}
