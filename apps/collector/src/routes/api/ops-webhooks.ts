/** Webhook endpoints and the delivery log of an account (docs/protocol.md §6, docs/webhooks.md), declared once. */
import { z } from 'zod'
import { configId, error, errors, intParam, json, JSON_TYPE, STORAGE, type Operation } from './define.js'
import {
  WebhookDeliveries,
  WebhookEndpointCreated,
  WebhookEndpointDeleted,
  WebhookEndpointInput,
  WebhookEndpoints,
  WebhookRedelivery,
} from './webhook-schemas.js'

export const DELIVERIES_PAGE = { default: 50, max: 200 }
/** A page of the delivery log; an unknown parameter is refused. */
export const DELIVERIES_QUERY = z.strictObject({
  limit: intParam(1, DELIVERIES_PAGE.max, `expected 1 to ${DELIVERIES_PAGE.max}`)
    .meta({ description: `Rows per page, 1 to ${DELIVERIES_PAGE.max} (default ${DELIVERIES_PAGE.default}).` })
    .optional(),
  before: intParam(1, Number.MAX_SAFE_INTEGER, 'expected the `next` of a previous page').meta({ description: 'The `next` of the previous page.' }).optional(),
})

const badId = error('`invalid_request`: the account id is not an id (docs/protocol.md §7).')

export const WEBHOOK_OPERATIONS: Record<string, Operation> = {
  'POST /v1/admin/accounts/:id/webhooks': {
    operationId: 'adminPostWebhookEndpoint',
    summary: 'Add a webhook endpoint; the answer shows its secret, once',
    tags: ['admin'],
    auth: 'admin',
    path: { id: { description: 'The account id.', schema: configId } },
    body: { contentType: JSON_TYPE, schema: WebhookEndpointInput },
    responses: {
      201: json('The endpoint with its signing secret.', WebhookEndpointCreated),
      400: errors.body400,
      401: errors.admin401,
      404: error('`not_found`: no such account.'),
      409: error('`conflict`: the account has 10 endpoints already.'),
      413: errors[413],
      503: STORAGE,
    },
  },
  'GET /v1/admin/accounts/:id/webhooks': {
    operationId: 'adminGetWebhookEndpoints',
    summary: "The account's webhook endpoints (without secrets)",
    tags: ['admin'],
    auth: 'admin',
    path: { id: { description: 'The account id.', schema: configId } },
    responses: {
      200: json('Endpoints, oldest first.', WebhookEndpoints),
      400: badId,
      401: errors.admin401,
      404: error('`not_found`: no such account.'),
      503: STORAGE,
    },
  },
  'DELETE /v1/admin/accounts/:id/webhooks/:endpoint': {
    operationId: 'adminDeleteWebhookEndpoint',
    summary: 'Remove a webhook endpoint and what was still to be sent to it',
    tags: ['admin'],
    auth: 'admin',
    path: { id: { description: 'The account id.', schema: configId }, endpoint: { description: 'The endpoint id (`we_…`).' } },
    responses: {
      200: json('Removed.', WebhookEndpointDeleted),
      400: badId,
      401: errors.admin401,
      404: error('`not_found`: no such account or endpoint.'),
      503: STORAGE,
    },
  },
  'GET /v1/admin/accounts/:id/webhooks/deliveries': {
    operationId: 'adminGetWebhookDeliveries',
    summary: 'The webhook delivery log, newest event first, paged',
    tags: ['admin'],
    auth: 'admin',
    description: "One row per event and endpoint. A page ends at an event's boundary.",
    path: { id: { description: 'The account id.', schema: configId } },
    query: DELIVERIES_QUERY,
    responses: {
      200: json('Deliveries with their events.', WebhookDeliveries),
      400: errors[400],
      401: errors.admin401,
      404: error('`not_found`: no such account.'),
      503: STORAGE,
    },
  },
  'POST /v1/admin/accounts/:id/webhooks/deliveries/:event/redeliver': {
    operationId: 'adminPostWebhookRedelivery',
    summary: 'Send an event again to every endpoint of the account',
    tags: ['admin'],
    auth: 'admin',
    description: 'The event keeps its id, so a receiver that has it already can tell.',
    path: { id: { description: 'The account id.', schema: configId }, event: { description: 'The event id (`evt_…`).' } },
    responses: {
      202: json('Queued for delivery.', WebhookRedelivery),
      400: badId,
      401: errors.admin401,
      404: error('`not_found`: no such account or event.'),
      503: STORAGE,
    },
  },
}
