/**
 * `GET /v1/usage` (docs/protocol.md §5) and its admin twin: HTTP only; the report is
 * ../services/usage-report.ts, the CSV writer ../domain/csv.ts.
 */
import { Hono, type Context } from 'hono'
import { accountReader, adminAccount } from '../middleware/auth.js'
import { toCsv } from '../domain/csv.js'
import { usageColumns, usageReport } from '../services/usage-report.js'
import { valid } from './api/define.js'
import { USAGE_QUERY } from './api/ops-reads.js'
import type { AppDeps, TallyEnv } from '../context.js'

function wantsCsv(c: Context, format: 'csv' | 'json' | undefined): boolean {
  if (format) return format === 'csv'
  return /\btext\/csv\b/i.test(c.req.header('accept') ?? '')
}

async function answer(c: Context, deps: AppDeps, account: string) {
  const { format, ...q } = valid(USAGE_QUERY, c.req.query())
  const csv = wantsCsv(c, format)
  const report = await usageReport(deps, account, q)
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
