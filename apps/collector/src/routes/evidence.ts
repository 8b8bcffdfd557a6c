/**
 * The evidence of an invoice (docs/protocol.md §5, docs/evidence.md): `GET /v1/invoices/{number}/evidence`
 * with the read key, the same under `/v1/admin/accounts/{id}/…` with the admin token. HTTP only:
 * the rows come from services/evidence.ts; this picks the format and streams them as they are
 * read, one keyset page at a time, so memory stays flat whatever the invoice's size.
 */
import { Hono, type Context } from 'hono'
import { fail } from '../errors.js'
import { accountReader, adminAccount } from '../middleware/auth.js'
import { billingAccount } from '../domain/billing-account.js'
import { csvField } from '../domain/csv.js'
import { EVIDENCE_COLUMNS, invoiceEvidence, type EvidenceRow } from '../services/evidence.js'
import type { AppDeps, TallyEnv } from '../context.js'

/** Rows per storage read: large enough that a read costs little per row, small enough not to hold the writer up. */
export const EVIDENCE_PAGE_ROWS = 5000

const TIME_FIELDS = new Set<keyof EvidenceRow>(['time', 'end', 'receivedFirst', 'receivedLast'])

const iso = (ms: number) => new Date(ms).toISOString()

function csvLines(rows: readonly EvidenceRow[]): string {
  let out = ''
  for (const r of rows) {
    out += `${EVIDENCE_COLUMNS.map((c) => {
      const v = r[c]
      return csvField(typeof v === 'number' && TIME_FIELDS.has(c) ? iso(v) : v)
    }).join(',')}\r\n`
  }
  return out
}

function jsonLines(rows: readonly EvidenceRow[]): string {
  let out = ''
  for (const r of rows) {
    const o: Record<string, unknown> = {}
    for (const c of EVIDENCE_COLUMNS) {
      const v = r[c]
      if (v !== undefined) o[c] = typeof v === 'number' && TIME_FIELDS.has(c) ? iso(v) : v
    }
    out += `${JSON.stringify(o)}\n`
  }
  return out
}

export function evidenceRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config, adminToken, logger } = deps
  const app = new Hono<TallyEnv>()

  const handler = async (c: Context<TallyEnv>): Promise<Response> => {
    const account = c.var.account
    const billing = billingAccount(config, account)
    if (!billing) throw fail('not_found', `no account "${account}"`)
    const number = /^\d{1,9}$/.test(c.req.param('number') ?? '') ? Number(c.req.param('number')) : Number.NaN
    const file = /^evidence(?:\.(csv|jsonl))?$/.exec(c.req.param('file') ?? '')
    if (!file || Number.isNaN(number)) throw fail('not_found', 'no such invoice evidence')
    const accept = c.req.header('accept') ?? ''
    const format = file[1] ?? (/application\/(x-ndjson|jsonl)/.test(accept) ? 'jsonl' : 'csv')
    const data = await store.billingData(account)
    const invoice = data.finalized.find((i) => i.number === number)
    if (!invoice) throw fail('not_found', `no invoice number ${number}`)

    const pages = invoiceEvidence(store, { account, billing, invoice, data, at: clock.now(), pageSize: EVIDENCE_PAGE_ROWS })
    const write = format === 'csv' ? csvLines : jsonLines
    // The first page is read before the answer starts, so a storage failure is still a 503, not a cut stream.
    const first = await pages.next()
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        const head = format === 'csv' ? `${EVIDENCE_COLUMNS.join(',')}\r\n` : ''
        ctrl.enqueue(encoder.encode(head + (first.done ? '' : write(first.value))))
        if (first.done) ctrl.close()
      },
      // One page per pull: the next storage read waits until the client has taken the last page.
      async pull(ctrl) {
        try {
          const next = await pages.next()
          if (next.done) ctrl.close()
          else ctrl.enqueue(encoder.encode(write(next.value)))
        } catch (err) {
          // Headers are sent: the only honest signal left is a cut answer (no final chunk), and the log.
          logger.error({ err, account, invoice: number }, 'evidence export failed')
          ctrl.error(err)
        }
      },
      async cancel() {
        await pages.return(undefined)
      },
    })
    const name = `evidence-${account}-${number}.${format}`
    return c.body(body, 200, {
      'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="${name}"`,
      'Cache-Control': 'private, no-store',
      Vary: 'Accept',
    })
  }

  app.get('/v1/invoices/:number/:file', accountReader(config), handler)
  app.get('/v1/admin/accounts/:id/invoices/:number/:file', adminAccount(config, adminToken), handler)
  return app
}
