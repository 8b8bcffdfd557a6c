/**
 * `GET /v1/usage` (docs/protocol.md §5) and its admin twin: HTTP only; the report is
 * ../services/usage-report.ts, the CSV writer ../domain/csv.ts.
 */
import { Hono, type Context } from 'hono'
import { fail } from '../errors.js'
import { accountReader, adminAccount } from '../middleware/auth.js'
import { toCsv } from '../domain/csv.js'
import { checkUsageQuery, usageColumns, usageReport } from '../services/usage-report.js'
import type { AppDeps, TallyEnv } from '../context.js'

function wantsCsv(c: Context): boolean {
  const format = c.req.query('format')
  if (format !== undefined && format !== 'csv' && format !== 'json') {
    throw fail('invalid_request', 'format: expected csv or json')
  }
  if (format) return format === 'csv'
  return /\btext\/csv\b/i.test(c.req.header('accept') ?? '')
}

async function answer(c: Context, deps: AppDeps, account: string) {
  checkUsageQuery(Object.keys(c.req.queries()))
  const csv = wantsCsv(c)
  const q = (name: string) => c.req.query(name)
  const report = await usageReport(deps, account, {
    from: q('from'), to: q('to'), groupBy: q('groupBy'),
    container: q('container'), campaign: q('campaign'), advisor: q('advisor'), bot: q('bot'),
  })
  if (!csv) return c.json(report)
  return c.body(toCsv(usageColumns(report.groupBy), report.rows), 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="usage-${account}-${report.from}-${report.to}.csv"`,
  })
}

export function usageReportRoutes(deps: AppDeps): Hono<TallyEnv> {
  const app = new Hono<TallyEnv>()
  app.get('/v1/usage', accountReader(deps.config), (c) => answer(c, deps, c.var.account))
  app.get('/v1/admin/accounts/:id/usage', adminAccount(deps.config, deps.adminToken), (c) => answer(c, deps, c.var.account))
  return app
}
