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

/**
 * `Date#toISOString` for the instants of an export: the date part is formatted once per day, the
 * rest by arithmetic. An export writes a million of these; the generic one was its largest cost.
 */
export function isoWriter(): (ms: number) => string {
  let day = Number.NaN
  let prefix = ''
  const pad = (n: number, w: number) => String(n).padStart(w, '0')
  return (ms) => {
    const d = Math.floor(ms / 86_400_000)
    if (d !== day) {
      day = d
      prefix = new Date(d * 86_400_000).toISOString().slice(0, 11)
    }
    let r = ms - d * 86_400_000
    const h = Math.floor(r / 3_600_000)
    r -= h * 3_600_000
    const m = Math.floor(r / 60_000)
    r -= m * 60_000
    const sec = Math.floor(r / 1000)
    return `${prefix}${pad(h, 2)}:${pad(m, 2)}:${pad(sec, 2)}.${pad(r - sec * 1000, 3)}Z`
  }
}

/** A writer of rows as CSV lines (RFC 4180 fields, CRLF), or as JSON lines with the same keys. */
function rowWriter(format: 'csv' | 'jsonl'): (rows: readonly EvidenceRow[]) => string {
  const iso = isoWriter()
  const value = (r: EvidenceRow, c: keyof EvidenceRow) => {
    const v = r[c]
    return typeof v === 'number' && TIME_FIELDS.has(c) ? iso(v) : v
  }
  if (format === 'csv') {
    return (rows) => {
      let out = ''
      for (const r of rows) {
        let line = ''
        for (let i = 0; i < EVIDENCE_COLUMNS.length; i++) {
          const v = value(r, EVIDENCE_COLUMNS[i] as keyof EvidenceRow)
          line += (i ? ',' : '') + (v === undefined ? '' : typeof v === 'number' ? String(v) : csvField(v))
        }
        out += `${line}\r\n`
      }
      return out
    }
  }
  return (rows) => {
    let out = ''
    for (const r of rows) {
      const o: Record<string, unknown> = {}
      for (const c of EVIDENCE_COLUMNS) {
        const v = value(r, c)
        if (v !== undefined) o[c] = v
      }
      out += `${JSON.stringify(o)}\n`
    }
    return out
  }
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
    const format: 'csv' | 'jsonl' = file[1] === 'csv' || file[1] === 'jsonl' ? file[1] : /application\/(x-ndjson|jsonl)/.test(accept) ? 'jsonl' : 'csv'
    const data = await store.billingData(account)
    const invoice = data.finalized.find((i) => i.number === number)
    if (!invoice) throw fail('not_found', `no invoice number ${number}`)

    const pages = invoiceEvidence(store, { account, billing, invoice, data, at: clock.now(), pageSize: EVIDENCE_PAGE_ROWS })
    const write = rowWriter(format)
    // The first page is read before the answer starts, so a storage failure is still a 503, not a cut stream.
    const first = await pages.next()
    // The next page is read (on the storage thread) while this one is written out. Marked handled at
    // once: a failure is seen when the page is awaited, and a client gone by then must not crash the process.
    const prefetch = () => {
      const p = pages.next()
      p.catch(() => undefined)
      return p
    }
    let ahead = first.done ? undefined : prefetch()
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        const head = format === 'csv' ? `${EVIDENCE_COLUMNS.join(',')}\r\n` : ''
        ctrl.enqueue(encoder.encode(head + (first.done ? '' : write(first.value))))
        if (first.done) ctrl.close()
      },
      // One page per pull, and one read ahead: no more than two pages are held, whatever the client's speed.
      async pull(ctrl) {
        try {
          const next = ahead ? await ahead : { done: true as const, value: undefined }
          if (next.done) {
            ahead = undefined
            ctrl.close()
            return
          }
          ahead = prefetch()
          ctrl.enqueue(encoder.encode(write(next.value)))
        } catch (err) {
          // Headers are sent: the only honest signal left is a cut answer (no final chunk), and the log.
          logger.error({ err, account, invoice: number }, 'evidence export failed')
          ctrl.error(err)
        }
      },
      async cancel() {
        // A read already under way finishes first: a generator runs one step at a time.
        await ahead?.catch(() => undefined)
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
