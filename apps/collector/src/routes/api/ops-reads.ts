/**
 * The account reads (docs/protocol.md §5): usage, period, invoices, evidence, credits, refusals,
 * declared once; their admin twins under `/v1/admin/accounts/{id}/…` are derived from them
 * (./document.ts). The query schemas are what the routes validate with.
 */
import { z } from 'zod'
import { parseIsoDay, localInstant } from '../../domain/dates.js'
import { DEFAULT_RANGE_DAYS, GROUPINGS, MAX_DAY_ROWS, type Grouping } from '../../services/usage-report.js'
import { csv, error, errors, id, intParam, JSON_TYPE, json, retryAfter, STORAGE, text, type Operation } from './define.js'
import { EXPORT_LIMITS } from '../../domain/export-slots.js'
import { AccountInvoice, CreditLog, Credits, Invoices, Period } from './billing-schemas.js'
import { Rejections, UsageReport } from './schemas.js'

const DAY_RULE = 'expected a date YYYY-MM-DD (years 1970 to 9998)'
const day = (description: string) =>
  z
    .string()
    .refine((v) => parseIsoDay(v) !== undefined, DAY_RULE)
    .meta({ format: 'date', description })
    .optional()
const filter = (description: string) => id.meta({ description }).optional()

/** `GET /v1/usage`: a misspelt filter must not widen the answer silently, so an unknown parameter is refused. */
export const USAGE_QUERY = z.strictObject({
  from: day(`First day (inclusive), YYYY-MM-DD in the account's time zone. Default: ${DEFAULT_RANGE_DAYS - 1} days before \`to\`.`),
  to: day("Last day (inclusive), YYYY-MM-DD in the account's time zone. Default: today there."),
  groupBy: z
    .string()
    .transform((value, ctx): Grouping[] => {
      const given = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
      const unknown = given.find((g) => !(GROUPINGS as readonly string[]).includes(g))
      if (unknown !== undefined)
        ctx.addIssue({ code: 'custom', message: `unknown grouping "${unknown.slice(0, 40)}"; expected any of ${GROUPINGS.join(', ')}` })
      // Columns and sorting follow the canonical order, whatever order the caller wrote.
      return GROUPINGS.filter((g) => given.includes(g))
    })
    .meta({
      description: `Comma-separated groupings, any of ${GROUPINGS.join(', ')}; empty for one row of totals. With \`day\`, every day of the range has a row (zeros when nothing happened) and the range is at most ${MAX_DAY_ROWS} days.`,
      example: 'day,campaign',
    })
    .optional(),
  format: z.enum(['json', 'csv'], 'expected csv or json').meta({ description: '`csv` for CSV (as does `Accept: text/csv`); default JSON.' }).optional(),
  container: filter("Only this container's usage. Server-side usage (alerts, credits) belongs to no container and is left out by any filter."),
  campaign: filter("Only this campaign's impressions. Several of `campaign`, `advisor`, `bot` keep the usage of any of them."),
  advisor: filter("Only this advisor's engagements (see `campaign`)."),
  bot: filter("Only this bot's chat sessions (see `campaign`)."),
})

export const CREDIT_LOG_QUERY = z.object({ wallet: z.string().meta({ description: 'Only this wallet (`account`, `member:alice`).' }).optional() })

export const REJECTIONS_LIMIT = { default: 50, max: 500 }
/** Pages end here: the offset a cursor may carry (a client pages 20 full pages at most). */
export const MAX_OFFSET = 10_000
const CURSOR_RULE = 'not a cursor this collector gave'
export const REJECTIONS_QUERY = z.object({
  since: z
    .string()
    .refine(
      (v) => !Number.isNaN(localInstant(v, 'UTC')),
      "expected a date YYYY-MM-DD (years 1970 to 9998, in the account's time zone), or a date-time with Z or an offset",
    )
    .meta({
      description:
        "A date YYYY-MM-DD in the account's time zone (its local midnight, the days of `GET /v1/usage`) or an ISO-8601 instant with Z or an offset; rows last seen from then on. Default: 7 days ago.",
    })
    .optional(),
  limit: intParam(1, REJECTIONS_LIMIT.max, `expected an integer from 1 to ${REJECTIONS_LIMIT.max}`)
    .meta({ description: `Rows per page, 1 to ${REJECTIONS_LIMIT.max}; default ${REJECTIONS_LIMIT.default}.` })
    .optional(),
  sort: z
    .enum(['lastSeen', 'count'], 'expected count or lastSeen')
    .meta({ description: '`lastSeen` (default, newest first) or `count` (largest first).' })
    .optional(),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,12}$/, CURSOR_RULE)
    .transform((c, ctx) => {
      const digits = Buffer.from(c, 'base64url').toString()
      const offset = /^\d{1,5}$/.test(digits) ? Number(digits) : Number.NaN
      if (!(offset <= MAX_OFFSET)) ctx.addIssue({ code: 'custom', message: CURSOR_RULE })
      return offset
    })
    .meta({ description: '`nextCursor` of the previous page (same `since` and `sort`).' })
    .optional(),
})

export const READ_OPERATIONS: Record<string, Operation> = {
  'GET /v1/usage': {
    operationId: 'getUsage',
    summary: 'Usage by day, container, campaign, advisor and bot (docs/protocol.md §5)',
    tags: ['read'],
    auth: 'account',
    description: "Days are calendar days in the account's time zone; `from` and `to` are both included.",
    query: USAGE_QUERY,
    responses: {
      200: {
        description: 'The rows; CSV (RFC 4180) with format=csv or Accept: text/csv.',
        content: { [JSON_TYPE]: { schema: UsageReport }, 'text/csv': { schema: csv() } },
        headers: { 'Content-Disposition': { description: 'CSV only: `attachment; filename="usage-{account}-{from}-{to}.csv"`.', schema: text } },
      },
      400: errors[400],
      401: errors[401],
      503: STORAGE,
    },
  },
  'GET /v1/period': {
    operationId: 'getPeriod',
    summary: 'The current period at a glance',
    tags: ['read'],
    auth: 'account',
    responses: {
      200: json('Current period.', Period),
      401: errors[401],
      404: error('`not_found`: no current period (the subscription has not started or has ended).'),
      503: STORAGE,
    },
  },
  'GET /v1/invoices': {
    operationId: 'getInvoices',
    summary: 'Finalized invoices',
    tags: ['read'],
    auth: 'account',
    responses: { 200: json('Invoices in number order.', Invoices), 401: errors[401], 503: STORAGE },
  },
  'GET /v1/invoices/:file': {
    operationId: 'getInvoice',
    summary: 'One invoice: {number}, {number}.json, {number}.csv or {number}.pdf',
    tags: ['read'],
    auth: 'account',
    path: { file: { description: 'The invoice number, optionally with `.json`, `.csv` or `.pdf`.', schema: z.string().meta({ examples: ['1', '1.pdf'] }) } },
    responses: {
      200: {
        description: 'JSON, CSV or PDF by the extension, else by Accept.',
        content: {
          [JSON_TYPE]: { schema: AccountInvoice },
          'text/csv': {
            schema: csv(
              "One row per line and a `total` row; amounts in integer minor units, as in the JSON; a description starting with =, +, -, @, a tab or a CR has a leading '.",
            ),
          },
          'application/pdf': {},
        },
        headers: { 'Content-Disposition': { description: 'CSV and PDF: `attachment; filename="invoice-{account}-{number}.{ext}"`.', schema: text } },
      },
      401: errors[401],
      404: error('`not_found`: no such invoice.'),
      503: STORAGE,
    },
  },
  'GET /v1/invoices/:number/:file': {
    operationId: 'getInvoiceEvidence',
    summary: 'The billable units behind each line of an invoice',
    tags: ['read'],
    auth: 'account',
    description:
      "Per line: every unit of a usage line's meter in its period (impressions, engagements, conversations with their chat " +
      "sessions, alerts) and a summary row (`used` = the sum of the unit rows, `included`, `per`, `blocks` = the line's quantity); " +
      'the contacts readings of a contacts excess line; one `charge` row for any other line. Streamed as it is read (docs/evidence.md).',
    path: {
      number: {
        description: 'The invoice number.',
        schema: z
          .string()
          .regex(/^[0-9]{1,9}$/)
          .meta({ examples: ['2'] }),
      },
      file: {
        description: '`evidence`, `evidence.csv` or `evidence.jsonl`: without an extension, JSON lines for Accept: application/x-ndjson, else CSV.',
        schema: z.enum(['evidence', 'evidence.csv', 'evidence.jsonl']),
      },
    },
    responses: {
      200: {
        description: 'CSV (the default) or JSON lines: one row per unit, summary or charge, in line order.',
        content: {
          'text/csv': {
            schema: csv(
              "Header `line,lineKind,meter,record,id,container,session,subject,time,end,receivedFirst,receivedLast,botMs,quantity,used,included,per,blocks,billedBefore,credits,member,note`; times ISO-8601; a text field starting with =, +, -, @, a tab or a CR has a leading ' (docs/evidence.md), numbers never.",
            ),
          },
          'application/x-ndjson': { schema: z.string().meta({ description: "One JSON object per line with the CSV's columns as keys, empty ones left out." }) },
        },
        headers: { 'Content-Disposition': { description: '`attachment; filename="evidence-{account}-{number}.{csv|jsonl}"`.', schema: text } },
      },
      401: errors[401],
      404: error('`not_found`: no such invoice, or a file other than `evidence[.csv|.jsonl]`.'),
      429: {
        ...error(
          `\`rate_limited\`: too many evidence exports at once (at most ${EXPORT_LIMITS.perAccount} per account and ${EXPORT_LIMITS.global} per collector by default, docs/security.md "Exports"); nothing was read.`,
        ),
        headers: retryAfter,
      },
      503: STORAGE,
    },
  },
  'GET /v1/credits': {
    operationId: 'getCredits',
    summary: 'Credit balances by wallet and lot',
    tags: ['read'],
    auth: 'account',
    responses: { 200: json('Balances, with the grants and expiries due by now.', Credits), 401: errors[401], 503: STORAGE },
  },
  'GET /v1/credits/log': {
    operationId: 'getCreditLog',
    summary: 'The credit log',
    tags: ['read'],
    auth: 'account',
    query: CREDIT_LOG_QUERY,
    responses: { 200: json('Grants, purchases, spends, transfers and expiries, in written order.', CreditLog), 401: errors[401], 503: STORAGE },
  },
  'GET /v1/rejections': {
    operationId: 'getRejections',
    summary: 'Refused beacons by container, reason and origin',
    tags: ['read'],
    auth: 'account',
    query: REJECTIONS_QUERY,
    responses: { 200: json('One page of counts per container, reason, origin and subject.', Rejections), 400: errors[400], 401: errors[401], 503: STORAGE },
  },
}
