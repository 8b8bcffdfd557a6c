/** The admin configuration routes and the billing run (docs/protocol.md §6), declared once. */
import { z } from 'zod'
import { CONFIG_YEARS } from '@tally/protocol'
import { parseIsoInstant } from '../../domain/dates.js'
import { configId, error, errors, intParam, json, JSON_TYPE, STORAGE, type Operation } from './define.js'
import { BillingRun, BillingRunResult } from './billing-schemas.js'
import {
  AccountApplied,
  AccountHistory,
  AccountInput,
  AccountList,
  AccountPatch,
  ContainerApplied,
  ContainerInput,
  ContainerPatch,
  EmailGrant,
  EmailGrantResult,
} from './schemas.js'

const AT_RULE = `expected an ISO-8601 date-time with Z or an offset, in the years ${CONFIG_YEARS.min}-${CONFIG_YEARS.max}`
const inConfigYears = (v: string): boolean => {
  const t = parseIsoInstant(v)
  if (Number.isNaN(t)) return false
  const year = new Date(t).getUTCFullYear()
  return year >= CONFIG_YEARS.min && year <= CONFIG_YEARS.max
}

/** `?at=` of the admin writes: when the version a write makes takes effect (the route refuses one in the past). */
export const AT_QUERY = z.object({
  at: z
    .string()
    .refine(inConfigYears, AT_RULE)
    .meta({
      format: 'date-time',
      description: `When the version this write makes takes effect: an ISO-8601 date-time with Z or an offset, not in the past, in the years ${CONFIG_YEARS.min}-${CONFIG_YEARS.max}. Default: at once. Until then the version before stays in force, and is billed (docs/configuration.md).`,
    })
    .optional(),
})

export const HISTORY_LIMIT = { default: 20, max: 100 }
/** The query of `GET /v1/admin/accounts/{id}/history`: one page of versions, newest first. */
export const HISTORY_QUERY = z.object({
  limit: intParam(1, HISTORY_LIMIT.max, `expected an integer from 1 to ${HISTORY_LIMIT.max}`)
    .meta({ description: `Versions per page, 1 to ${HISTORY_LIMIT.max}; default ${HISTORY_LIMIT.default}.` })
    .optional(),
  before: intParam(1, Number.MAX_SAFE_INTEGER, 'expected a version, an integer from 1')
    .meta({ description: '`next` of the previous page: versions before this one.' })
    .optional(),
})

export const ADMIN_OPERATIONS: Record<string, Operation> = {
  'GET /v1/admin/accounts': {
    operationId: 'adminListAccounts',
    summary: 'The accounts in force',
    tags: ['admin'],
    auth: 'admin',
    description: 'The versions in force in the database (docs/configuration.md): the config file seeds it, the admin API and `tally config apply` change it.',
    responses: { 200: json('Every account, in the order of the configuration.', AccountList), 401: errors.admin401 },
  },
  'GET /v1/admin/accounts/:id': {
    operationId: 'adminGetAccount',
    summary: 'An account as in force (keys and containers included)',
    tags: ['admin'],
    auth: 'admin',
    path: { id: { description: 'The account id.', schema: configId } },
    responses: {
      200: json('The account.', AccountApplied),
      400: error('`invalid_request`: not an id (docs/protocol.md §7).'),
      401: errors.admin401,
      404: error('`not_found`: no such account.'),
    },
  },
  'PATCH /v1/admin/accounts/:id': {
    operationId: 'adminPatchAccount',
    summary: 'Change some fields of an account (JSON merge patch)',
    tags: ['admin'],
    auth: 'admin',
    description:
      'RFC 7396 over the whole account (its newest version, containers included); written as the next version of the whole account with its audit entry, so it survives a restart and reaches every collector. Containers are kept unless the patch names `containers`. `?at=` dates the version later.',
    path: { id: { description: 'The account id.', schema: configId } },
    query: AT_QUERY,
    body: { contentType: JSON_TYPE, schema: AccountPatch },
    responses: {
      200: json('The account as applied.', AccountApplied),
      400: errors.body400,
      401: errors.admin401,
      404: error('`not_found`: no such account (create one with PUT).'),
      409: error('`conflict`: a container id or key is taken by another account, or a container id belonged to another account (docs/protocol.md §6).'),
      413: errors[413],
      503: STORAGE,
    },
  },
  'GET /v1/admin/accounts/:id/history': {
    operationId: 'adminGetAccountHistory',
    summary: 'The versions of an account, newest first, with who wrote each',
    tags: ['admin'],
    auth: 'admin',
    description:
      'Every admin write, `tally config apply` and start with an edited file writes a new version of the whole account (its containers inside) with an audit entry: who, when, before and after (docs/configuration.md).',
    path: { id: { description: 'The account id.', schema: configId } },
    query: HISTORY_QUERY,
    responses: {
      200: json('One page of versions.', AccountHistory),
      400: errors[400],
      401: errors.admin401,
      404: error('`not_found`: no such account, and none ever was.'),
      503: STORAGE,
    },
  },
  'GET /v1/admin/containers/:id': {
    operationId: 'adminGetContainer',
    summary: 'A container as in force, with its account',
    tags: ['admin'],
    auth: 'admin',
    path: { id: { description: 'The container id.', schema: configId } },
    responses: {
      200: json('The container.', ContainerApplied),
      400: error('`invalid_request`: not an id (docs/protocol.md §7).'),
      401: errors.admin401,
      404: error('`not_found`: no such container.'),
    },
  },
  'PATCH /v1/admin/containers/:id': {
    operationId: 'adminPatchContainer',
    summary: 'Change some fields of a container (JSON merge patch)',
    tags: ['admin'],
    auth: 'admin',
    description: 'RFC 7396 over the container in force; persisted like a PUT. Arrays replace whole: to add a domain, send the full `domains` list.',
    path: { id: { description: 'The container id.', schema: configId } },
    query: AT_QUERY,
    body: { contentType: JSON_TYPE, schema: ContainerPatch },
    responses: {
      200: json('The container as applied.', ContainerApplied),
      400: errors.body400,
      401: errors.admin401,
      404: error('`not_found`: no such container (create one with PUT).'),
      409: error('`conflict`: `account` names another account.'),
      413: errors[413],
      503: STORAGE,
    },
  },
  'PUT /v1/admin/accounts/:id': {
    operationId: 'adminPutAccount',
    summary: "Create or replace an account (the config file's shape)",
    tags: ['admin'],
    auth: 'admin',
    path: { id: { description: 'The account id.', schema: configId } },
    query: AT_QUERY,
    body: { contentType: JSON_TYPE, schema: AccountInput },
    responses: {
      200: json('The account as applied.', AccountApplied),
      400: errors.body400,
      401: errors.admin401,
      409: error('`conflict`: a container id or key is taken by another account, or a container id belonged to another account (docs/protocol.md §6).'),
      503: STORAGE,
    },
  },
  'PUT /v1/admin/containers/:id': {
    operationId: 'adminPutContainer',
    summary: 'Create or replace a container; `account` names the owner of a new one',
    tags: ['admin'],
    auth: 'admin',
    path: { id: { description: 'The container id.', schema: configId } },
    query: AT_QUERY,
    body: { contentType: JSON_TYPE, schema: ContainerInput },
    responses: {
      200: json('The container as applied.', ContainerApplied),
      400: errors.body400,
      401: errors.admin401,
      409: error('`conflict`: it belongs, or belonged, to another account (docs/protocol.md §6).'),
      503: STORAGE,
    },
  },
  'POST /v1/admin/billing/run': {
    operationId: 'adminPostBillingRun',
    summary: 'Close every period that ended by asOf (idempotent)',
    tags: ['admin'],
    auth: 'admin',
    body: { contentType: JSON_TYPE, schema: BillingRun },
    responses: {
      200: json('Invoices and credit entries written, per account; an account whose storage failed says why in `error`.', BillingRunResult),
      400: error('`invalid_json`, or `invalid_request`: `asOf` not ISO-8601 or in the future, `account` unknown.'),
      401: errors.admin401,
      413: errors[413],
    },
  },
  'POST /v1/admin/accounts/:id/email-grants': {
    operationId: 'adminPostEmailGrant',
    summary: 'Grant extra emails for the current month of the quota (idempotent by id)',
    tags: ['admin'],
    auth: 'admin',
    description: 'Counted by the email quota check and shown in `GET /v1/period` as `emails.granted` (docs/billing.md, "Emails").',
    path: { id: { description: 'The account id.', schema: configId } },
    body: { contentType: JSON_TYPE, schema: EmailGrant },
    responses: {
      200: json('The grant as stored (the original one for a repeated id).', EmailGrantResult),
      400: error('`invalid_json`, or `invalid_request`: a bad `id`, `emails` or `note`, or the account has no current period.'),
      401: errors.admin401,
      404: error('`not_found`: no such account.'),
      413: errors[413],
      503: STORAGE,
    },
  },
}
