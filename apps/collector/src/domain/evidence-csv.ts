/**
 * Evidence as text (docs/evidence.md): CSV (RFC 4180 fields, CRLF, the header of EVIDENCE_COLUMNS)
 * or JSON lines with the same keys, empty ones left out; instants as ISO-8601 UTC. Text cells go
 * through `csvField` (a formula-like id gets a leading `'`, docs/security.md), numbers do not.
 */
import { csvField } from './csv.js'
import { EVIDENCE_COLUMNS, type EvidenceRow } from './evidence-row.js'

export type EvidenceFormat = 'csv' | 'jsonl'

/** What an export starts with: the CSV header line, nothing for JSON lines. */
export function evidenceHead(format: EvidenceFormat): string {
  return format === 'csv' ? `${EVIDENCE_COLUMNS.join(',')}\r\n` : ''
}

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
export function rowWriter(format: EvidenceFormat): (rows: readonly EvidenceRow[]) => string {
  const iso = isoWriter()
  const value = (r: EvidenceRow, c: keyof EvidenceRow) => {
    const v = r[c]
    return typeof v === 'number' && TIME_FIELDS.has(c) ? iso(v) : v
  }
  if (format === 'csv') {
    // Spelled out column by column, in EVIDENCE_COLUMNS' order (a test holds them together): a
    // loop over the column names was more than half of an export's time.
    const t = (v: number | undefined) => (v === undefined ? '' : iso(v))
    const n = (v: number | undefined) => (v === undefined ? '' : String(v))
    const f = (v: string | undefined) => (v === undefined ? '' : csvField(v))
    return (rows) => {
      let out = ''
      for (const r of rows) {
        out +=
          `${r.line},${f(r.lineKind)},${f(r.meter)},${r.record},${f(r.id)},${f(r.container)},${f(r.session)},${f(r.subject)},` +
          `${t(r.time)},${t(r.end)},${t(r.receivedFirst)},${t(r.receivedLast)},${n(r.botMs)},${n(r.quantity)},${n(r.used)},` +
          `${n(r.included)},${n(r.per)},${n(r.blocks)},${n(r.billedBefore)},${n(r.credits)},${f(r.member)},${f(r.note)}\r\n`
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

/**
 * The text of an export, encoded, one chunk per page of rows (the head in the first), so the
 * bytes of a page can be handed to another thread whole.
 */
export async function* evidenceChunks(pages: AsyncIterable<EvidenceRow[]>, format: EvidenceFormat): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder()
  const write = rowWriter(format)
  let head = evidenceHead(format)
  for await (const page of pages) {
    yield encoder.encode(head + write(page))
    head = ''
  }
  if (head) yield encoder.encode(head)
}
