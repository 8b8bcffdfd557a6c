/**
 * The evidence of an invoice (docs/protocol.md §5, docs/evidence.md): `GET /v1/invoices/{number}/evidence`
 * with the read key, the same under `/v1/admin/accounts/{id}/…` with the admin token. HTTP only:
 * the rows come from services/evidence.ts; this picks the format and streams them as they are
 * read, one keyset page at a time, so memory stays flat whatever the invoice's size.
 */
import { Hono, type Context } from 'hono'
import { fail } from '../errors.js'
import { accountReader, adminAccount } from '../middleware/auth.js'
import { whoOf } from './who.js'
import { evidenceHead, type EvidenceFormat } from '../domain/evidence-csv.js'
import type { AppDeps, TallyEnv } from '../context.js'
import type { IncomingMessage } from 'node:http'
import { createExportSlots, EXPORT_LIMITS, EXPORT_RETRY_AFTER_S, type ExportLimits } from '../domain/export-slots.js'

/** Rows per storage read: large enough that a read costs little per row, small enough not to hold the writer up. */
export const EVIDENCE_PAGE_ROWS = 1000

export function evidenceRoutes(deps: AppDeps, limits: ExportLimits = EXPORT_LIMITS): Hono<TallyEnv> {
  const { store, clock, config, adminToken, logger } = deps
  const app = new Hono<TallyEnv>()
  // Exports are a bounded resource (../domain/export-slots.ts, docs/security.md "Exports").
  const slots = createExportSlots(limits)
  const who = whoOf(config)

  const handler = async (c: Context<TallyEnv>): Promise<Response> => {
    const { id: account, billing } = who(c)
    const number = /^\d{1,9}$/.test(c.req.param('number') ?? '') ? Number(c.req.param('number')) : Number.NaN
    const file = /^evidence(?:\.(csv|jsonl))?$/.exec(c.req.param('file') ?? '')
    if (!file || Number.isNaN(number)) throw fail('not_found', 'no such invoice evidence')
    const accept = c.req.header('accept') ?? ''
    const format: EvidenceFormat = file[1] === 'csv' || file[1] === 'jsonl' ? file[1] : /application\/(x-ndjson|jsonl)/.test(accept) ? 'jsonl' : 'csv'
    // Taken before anything is read (the account's billing data included), freed once when the answer ends however it ends.
    const release = slots.acquire(account)
    if (!release) {
      throw fail('rate_limited', 'too many evidence exports at once: retry later', { 'Retry-After': String(EXPORT_RETRY_AFTER_S) })
    }
    let chunks: AsyncIterator<Uint8Array>
    let first: IteratorResult<Uint8Array>
    try {
      const data = await store.billingData(account)
      const invoice = data.finalized.find((i) => i.number === number)
      if (!invoice) throw fail('not_found', `no invoice number ${number}`)
      chunks = store.evidence({ account, billing, invoice, data, at: clock.now(), pageSize: EVIDENCE_PAGE_ROWS, format })[Symbol.asyncIterator]()
      // The first page is read before the answer starts, so a storage failure is still a 503, not a cut stream.
      first = await chunks.next()
    } catch (e) {
      release()
      throw e
    }
    // A client that takes no page for writeTimeoutMs is cut: its reader stops and its slot is freed.
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
    let stall: ReturnType<typeof setTimeout> | undefined
    const finish = () => {
      clearTimeout(stall)
      release()
    }
    const watch = (ctrl: ReadableStreamDefaultController<Uint8Array>) => {
      clearTimeout(stall)
      stall = setTimeout(() => {
        logger.info({ account, invoice: number, timeoutMs: limits.writeTimeoutMs }, 'evidence export cut: the client stopped reading')
        finish()
        ctrl.error(new Error('the client stopped reading'))
        void ahead
          ?.catch(() => undefined)
          .then(() => chunks.return?.(undefined))
          .catch(() => undefined)
        incoming?.socket?.destroy()
      }, limits.writeTimeoutMs)
      stall.unref?.()
    }
    // The next page is read while this one goes out. Marked handled at once: a failure is seen
    // when the page is awaited, and a client gone by then must not crash the process.
    const prefetch = () => {
      const p = chunks.next()
      p.catch(() => undefined)
      return p
    }
    let ahead = first.done ? undefined : prefetch()
    const body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        if (first.done) {
          ctrl.enqueue(new TextEncoder().encode(evidenceHead(format)))
          ctrl.close()
          finish()
        } else {
          ctrl.enqueue(first.value)
          watch(ctrl)
        }
      },
      // One page per pull, and one read ahead: no more than two pages are held, whatever the client's speed.
      async pull(ctrl) {
        try {
          clearTimeout(stall)
          const next = ahead ? await ahead : { done: true as const, value: undefined }
          if (next.done) {
            ahead = undefined
            ctrl.close()
            finish()
            return
          }
          ahead = prefetch()
          ctrl.enqueue(next.value)
          watch(ctrl)
        } catch (err) {
          // Headers are sent: the only honest signal left is a cut answer (no final chunk), and the log.
          logger.error({ err, account, invoice: number }, 'evidence export failed')
          finish()
          ctrl.error(err)
        }
      },
      async cancel() {
        finish()
        // A read already under way finishes first: a generator runs one step at a time.
        await ahead?.catch(() => undefined)
        await chunks.return?.(undefined)
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
