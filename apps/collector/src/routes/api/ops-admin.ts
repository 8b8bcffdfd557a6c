/** The admin configuration routes and the billing run (docs/protocol.md §6), declared once. */
import { configId, error, errors, json, JSON_TYPE, STORAGE, type Operation } from './define.js'
import { BillingRun, BillingRunResult } from './billing-schemas.js'
import {
  AccountApplied, AccountInput, AccountList, AccountPatch, ContainerApplied, ContainerInput, ContainerPatch, EmailGrant, EmailGrantResult,
} from './schemas.js'

export const ADMIN_OPERATIONS: Record<string, Operation> = {
  'GET /v1/admin/accounts': {
    operationId: 'adminListAccounts', summary: 'The accounts in force', tags: ['admin'], auth: 'admin',
    description: 'The configuration file with the admin changes replayed over it.',
    responses: { 200: json('Every account, in the order of the configuration.', AccountList), 401: errors.admin401 },
  },
  'GET /v1/admin/accounts/:id': {
    operationId: 'adminGetAccount', summary: 'An account as in force (keys and containers included)', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The account id.', schema: configId } },
    responses: {
      200: json('The account.', AccountApplied), 400: error('`invalid_request`: not an id (docs/protocol.md §7).'),
      401: errors.admin401, 404: error('`not_found`: no such account.'),
    },
  },
  'PATCH /v1/admin/accounts/:id': {
    operationId: 'adminPatchAccount', summary: 'Change some fields of an account (JSON merge patch)', tags: ['admin'], auth: 'admin',
    description: 'RFC 7396 over the account in force; persisted like a PUT, so it survives a restart. Containers are kept unless the patch names `containers`.',
    path: { id: { description: 'The account id.', schema: configId } },
    body: { contentType: JSON_TYPE, schema: AccountPatch },
    responses: {
      200: json('The account as applied.', AccountApplied), 400: errors.body400, 401: errors.admin401,
      404: error('`not_found`: no such account (create one with PUT).'),
      409: error('`conflict`: a container id or key is taken by another account, or a container id belonged to another account (docs/protocol.md §6).'), 413: errors[413], 503: STORAGE,
    },
  },
  'GET /v1/admin/containers/:id': {
    operationId: 'adminGetContainer', summary: 'A container as in force, with its account', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The container id.', schema: configId } },
    responses: {
      200: json('The container.', ContainerApplied), 400: error('`invalid_request`: not an id (docs/protocol.md §7).'),
      401: errors.admin401, 404: error('`not_found`: no such container.'),
    },
  },
  'PATCH /v1/admin/containers/:id': {
    operationId: 'adminPatchContainer', summary: 'Change some fields of a container (JSON merge patch)', tags: ['admin'], auth: 'admin',
    description: 'RFC 7396 over the container in force; persisted like a PUT. Arrays replace whole: to add a domain, send the full `domains` list.',
    path: { id: { description: 'The container id.', schema: configId } },
    body: { contentType: JSON_TYPE, schema: ContainerPatch },
    responses: {
      200: json('The container as applied.', ContainerApplied), 400: errors.body400, 401: errors.admin401,
      404: error('`not_found`: no such container (create one with PUT).'),
      409: error('`conflict`: `account` names another account.'), 413: errors[413], 503: STORAGE,
    },
  },
  'PUT /v1/admin/accounts/:id': {
    operationId: 'adminPutAccount', summary: 'Create or replace an account (the config file\'s shape)', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The account id.', schema: configId } },
    body: { contentType: JSON_TYPE, schema: AccountInput },
    responses: {
      200: json('The account as applied.', AccountApplied), 400: errors.body400, 401: errors.admin401,
      409: error('`conflict`: a container id or key is taken by another account, or a container id belonged to another account (docs/protocol.md §6).'), 503: STORAGE,
    },
  },
  'PUT /v1/admin/containers/:id': {
    operationId: 'adminPutContainer', summary: 'Create or replace a container; `account` names the owner of a new one', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The container id.', schema: configId } },
    body: { contentType: JSON_TYPE, schema: ContainerInput },
    responses: {
      200: json('The container as applied.', ContainerApplied), 400: errors.body400, 401: errors.admin401,
      409: error('`conflict`: it belongs, or belonged, to another account (docs/protocol.md §6).'), 503: STORAGE,
    },
  },
  'POST /v1/admin/billing/run': {
    operationId: 'adminPostBillingRun', summary: 'Close every period that ended by asOf (idempotent)', tags: ['admin'], auth: 'admin',
    body: { contentType: JSON_TYPE, schema: BillingRun },
    responses: {
      200: json('Invoices and credit entries written, per account; an account whose storage failed says why in `error`.', BillingRunResult),
      400: error('`invalid_json`, or `invalid_request`: `asOf` not ISO-8601 or in the future, `account` unknown.'),
      401: errors.admin401, 413: errors[413],
    },
  },
  'POST /v1/admin/accounts/:id/email-grants': {
    operationId: 'adminPostEmailGrant', summary: 'Grant extra emails for the current month of the quota (idempotent by id)', tags: ['admin'], auth: 'admin',
    description: 'Counted by the email quota check and shown in `GET /v1/period` as `emails.granted` (docs/billing.md, "Emails").',
    path: { id: { description: 'The account id.', schema: configId } },
    body: { contentType: JSON_TYPE, schema: EmailGrant },
    responses: {
      200: json('The grant as stored (the original one for a repeated id).', EmailGrantResult),
      400: error('`invalid_json`, or `invalid_request`: a bad `id`, `emails` or `note`, or the account has no current period.'),
      401: errors.admin401, 404: error('`not_found`: no such account.'), 413: errors[413], 503: STORAGE,
    },
  },
}
