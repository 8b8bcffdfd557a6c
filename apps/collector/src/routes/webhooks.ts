/**
 * Webhook endpoints and the delivery log of an account (docs/protocol.md §6, admin token;
 * docs/webhooks.md): HTTP only. The secret is shown once, in the answer that creates the endpoint.
 */
import { Hono } from 'hono'
import { randomBytes } from 'node:crypto'
import { fail } from '../errors.js'
import { adminAccount } from '../middleware/auth.js'
import { readJson } from '../middleware/body.js'
import { newWebhookSecret } from '../domain/webhook-signature.js'
import { webhookUrlProblem } from '../domain/webhook-target.js'
import { payloadOf } from '../services/webhooks.js'
import type { DeliveryRow } from '../engines/repository.js'
import type { AppDeps, TallyEnv } from '../context.js'
import { valid } from './api/define.js'
import { DELIVERIES_PAGE as PAGE, DELIVERIES_QUERY } from './api/ops-webhooks.js'
import { WebhookEndpointInput } from './api/webhook-schemas.js'

export { MAX_URL } from './api/webhook-schemas.js'

/** Endpoints an account may have: each event is sent to each of them. */
export const MAX_ENDPOINTS = 10

const deliveryOf = (d: DeliveryRow) => ({
  event: payloadOf(d),
  endpoint: d.endpoint,
  status: d.status,
  attempts: d.attempts,
  nextAttempt: d.status === 'pending' ? new Date(d.nextAt).toISOString() : null,
  lastAttempt: d.lastAt === null ? null : new Date(d.lastAt).toISOString(),
  lastStatus: d.lastStatus,
  lastError: d.lastError,
})

export function webhookRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config, adminToken, logger } = deps
  const app = new Hono<TallyEnv>()
  const admin = adminAccount(config, adminToken)

  app.post('/v1/admin/accounts/:id/webhooks', admin, async (c) => {
    const account = c.var.account
    const url = new URL(valid(WebhookEndpointInput, await readJson(c)).url)
    // Only public addresses, unless the operator allowed private ones (docs/webhooks.md, "Where webhooks may go").
    const problem = webhookUrlProblem(url, config.current().server.webhooks.allowPrivateNetworks)
    if (problem) throw fail('invalid_request', problem)
    if ((await store.webhookEndpoints(account)).length >= MAX_ENDPOINTS) throw fail('conflict', `the account has ${MAX_ENDPOINTS} endpoints already`)
    const endpoint = { id: `we_${randomBytes(8).toString('hex')}`, url: url.href, secret: newWebhookSecret(), createdAt: clock.now() }
    await store.addWebhookEndpoint(account, endpoint)
    logger.info({ account, endpoint: endpoint.id, url: endpoint.url }, 'webhook endpoint added')
    return c.json({ account, id: endpoint.id, url: endpoint.url, secret: endpoint.secret, created: new Date(endpoint.createdAt).toISOString() }, 201)
  })

  app.get('/v1/admin/accounts/:id/webhooks', admin, async (c) => {
    const account = c.var.account
    const endpoints = await store.webhookEndpoints(account)
    // The secret is never shown again: a lost one means a new endpoint.
    return c.json({ account, endpoints: endpoints.map((e) => ({ id: e.id, url: e.url, created: new Date(e.createdAt).toISOString() })) })
  })

  app.delete('/v1/admin/accounts/:id/webhooks/:endpoint', admin, async (c) => {
    const account = c.var.account
    const id = c.req.param('endpoint')
    if (!(await store.deleteWebhookEndpoint(account, id))) throw fail('not_found', 'no such endpoint')
    logger.info({ account, endpoint: id }, 'webhook endpoint removed')
    return c.json({ account, id, deleted: true })
  })

  app.get('/v1/admin/accounts/:id/webhooks/deliveries', admin, async (c) => {
    const account = c.var.account
    const { limit = PAGE.default, before } = valid(DELIVERIES_QUERY, c.req.query())
    // A page ends at an event's boundary: it takes the rest of its last event's deliveries (at most
    // one per endpoint), so the cursor, an event's position, never skips any.
    const rows = await store.webhookDeliveries(account, limit + MAX_ENDPOINTS, before)
    let end = Math.min(limit, rows.length)
    while (end < rows.length && rows[end]?.seq === rows[end - 1]?.seq) end++
    const page = rows.slice(0, end)
    const next = end < rows.length ? (page[page.length - 1]?.seq ?? null) : null
    return c.json({ account, deliveries: page.map(deliveryOf), next })
  })

  app.post('/v1/admin/accounts/:id/webhooks/deliveries/:event/redeliver', admin, async (c) => {
    const account = c.var.account
    const event = c.req.param('event')
    const n = await store.redeliverWebhook(account, event, clock.now())
    if (n === null) throw fail('not_found', 'no such event')
    logger.info({ account, event, endpoints: n }, 'webhook redelivery requested')
    return c.json({ account, event, endpoints: n }, 202)
  })

  return app
}
