/**
 * Invoices as text: amounts from integer minor units, and the CSV download (RFC 4180: CRLF line
 * ends, fields with a comma, quote or line break quoted, quotes doubled).
 */
import type { Invoice } from '@tally/billing'

/** Digits after the decimal point of a currency (EUR 2, JPY 0), from the platform's ISO 4217 data. */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  } catch {
    return 2
  }
}

/**
 * An amount in minor units as a decimal string, exactly (integer arithmetic, no float).
 * @example formatMinor(123456, 'EUR') // '1234.56'
 * @example formatMinor(-5, 'EUR') // '-0.05'
 */
export function formatMinor(amount: number, currency: string): string {
  const digits = minorDigits(currency)
  const sign = amount < 0 ? '-' : ''
  const abs = String(Math.abs(amount)).padStart(digits + 1, '0')
  if (digits === 0) return sign + abs
  return `${sign}${abs.slice(0, -digits)}.${abs.slice(-digits)}`
}

function field(v: string | number): string {
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

const row = (cells: (string | number)[]) => `${cells.map(field).join(',')}\r\n`

/** One row per line, then a total row; amounts in major units of the invoice's currency. */
export function invoiceCsv(inv: Invoice): string {
  let out = row(['invoice', 'issued', 'period_start', 'period_end', 'kind', 'description', 'quantity', 'unit_price', 'amount', 'currency'])
  for (const l of inv.lines) {
    out += row([
      inv.number ?? '', inv.issuedDate, l.period.startDate, l.period.endDate, l.kind, l.description, l.quantity,
      formatMinor(l.unitPrice, inv.currency), formatMinor(l.amount, inv.currency), inv.currency,
    ])
  }
  out += row([inv.number ?? '', inv.issuedDate, inv.period?.startDate ?? '', inv.period?.endDate ?? '', 'total', 'Total', '', '', formatMinor(inv.total, inv.currency), inv.currency])
  return out
}
