/**
 * CSV as RFC 4180 writes it: the one writer of every CSV answer (usage, invoices, evidence), and
 * the one cell function all of them call (`csvField`).
 */

/**
 * A text cell starting with one of these is run as a formula by Excel, LibreOffice Calc or Google
 * Sheets when the file is opened (`=`, `+`, `-`, `@`, and tab or CR before any of them); such a
 * cell is written with a single quote in front (OWASP, "CSV injection"; docs/security.md).
 */
const FORMULA_START = /^[=+\-@\t\r]/

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF; quotes doubled.
 * A string that a spreadsheet would read as a formula gets a leading `'` first; a number is
 * written as it is (`-500` stays the number -500), so numeric columns stay numeric.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'number') return String(value)
  const s = FORMULA_START.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** A whole CSV document: header line, then one line per row, CRLF line ends (RFC 4180). */
export function toCsv(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const lines = [columns.map(csvField).join(',')]
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c] as string | number | null | undefined)).join(','))
  return `${lines.join('\r\n')}\r\n`
}
