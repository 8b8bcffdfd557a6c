/**
 * Invoices as text: the CSV download (RFC 4180: CRLF line ends, fields with a comma, quote or line
 * break quoted, quotes doubled; text that a spreadsheet would run as a formula prefixed with `'`,
 * docs/security.md), and decimal amounts for people (`formatMinor`).
 *
 * One unit convention for JSON, CSV and PDF: every amount is an integer count of the currency's
 * minor units (cents for EUR, yen for JPY), as the API has always sent them. The CSV header names
 * say so (`unit_price_minor`, `discount_minor`, `amount_minor`), so a spreadsheet never mistakes
 * 4900 for 4900.00. Each line row checks by itself:
 * `round_half_even(quantity x unit_price_minor x months x proration) - discount_minor = amount_minor`.
 */
import { lineColumns, type Invoice } from '@tally/billing'
import { csvField } from './csv.js'

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

/**
 * A proration as a reader checks it: `21/31` (days billed of the period's days), or `1`.
 * @example formatProration({ days: 21, of: 31 }) // '21/31'
 * @example formatProration(null) // '1'
 */
export function formatProration(p: { days: number; of: number } | null): string {
  return p ? `${p.days}/${p.of}` : '1'
}

/** The CSV header: amounts in minor units, said in the column names. */
export const CSV_HEADER = [
  'invoice',
  'issued',
  'kind',
  'description',
  'from',
  'to',
  'quantity',
  'unit_price_minor',
  'months',
  'proration',
  'discount_minor',
  'amount_minor',
  'currency',
] as const

/** Amounts, quantities and months are numbers, written as they are; text goes through `csvField`. */
const row = (cells: (string | number)[]) => `${cells.map(csvField).join(',')}\r\n`

/**
 * One row per line with the columns that decide its amount, then a total row whose `from`-`to` is
 * the invoice's period; `to` is exclusive (the day after the last day charged).
 */
export function invoiceCsv(inv: Invoice): string {
  let out = row([...CSV_HEADER])
  for (const l of inv.lines) {
    const c = lineColumns(l)
    out += row([
      inv.number ?? '',
      inv.issuedDate,
      l.kind,
      l.description,
      c.from,
      c.to,
      c.quantity,
      c.unitPrice,
      c.months,
      formatProration(c.proration),
      c.discount,
      c.amount,
      inv.currency,
    ])
  }
  out += row([
    inv.number ?? '',
    inv.issuedDate,
    'total',
    'Total',
    inv.period?.startDate ?? '',
    inv.period?.endDate ?? '',
    '',
    '',
    '',
    '',
    '',
    inv.total,
    inv.currency,
  ])
  // Who it is issued to (docs/portal.md, "Invoice information"): one `bill_to` row per field given.
  if (inv.billTo) {
    const b = inv.billTo
    for (const [field, value] of [
      ['company', b.company],
      ['address', b.address.replace(/\r?\n/g, ', ')],
      ['tax_id', b.taxId],
      ['email', b.email],
    ]) {
      if (value) out += row([inv.number ?? '', inv.issuedDate, 'bill_to', `${field}: ${value}`, '', '', '', '', '', '', '', '', inv.currency])
    }
  }
  return out
}
