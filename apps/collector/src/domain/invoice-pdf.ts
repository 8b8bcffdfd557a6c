/**
 * The invoice as a PDF (pdfkit, A4 landscape so that every column fits): the account, the invoice
 * number, issue date and period, the unit of its amounts, one row per line with the columns that
 * decide it (from, to, quantity, unit price, months, proration, discount, amount), and the total.
 *
 * Amounts are integers in minor units of the currency, as in the JSON and CSV forms of the same
 * invoice; the page says so above the table. Built in memory; `compress: false` leaves the text
 * streams readable (tests search them).
 */
import PDFDocument from 'pdfkit'
import { lineColumns, type Invoice } from '@tally/billing'
import { formatMinor, formatProration, minorDigits } from './invoice-csv.js'

export interface PdfOptions {
  compress?: boolean
}

/** Column left edges and widths, points; the page is 842 wide with 40 margins. */
const COLS = [
  { key: 'description', title: 'Description', x: 40, w: 210, align: 'left' },
  { key: 'from', title: 'From', x: 255, w: 62, align: 'left' },
  { key: 'to', title: 'To (excl.)', x: 320, w: 62, align: 'left' },
  { key: 'quantity', title: 'Qty', x: 385, w: 40, align: 'right' },
  { key: 'unitPrice', title: 'Unit price', x: 430, w: 70, align: 'right' },
  { key: 'months', title: 'Months', x: 505, w: 45, align: 'right' },
  { key: 'proration', title: 'Proration', x: 555, w: 60, align: 'right' },
  { key: 'discount', title: 'Discount', x: 620, w: 70, align: 'right' },
  { key: 'amount', title: 'Amount', x: 695, w: 107, align: 'right' },
] as const

export function invoicePdf(inv: Invoice, account: { id: string; name: string }, opts: PdfOptions = {}): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 40,
    compress: opts.compress ?? true,
    info: { Title: `Invoice ${inv.number ?? inv.key}`, Author: 'Tally', CreationDate: new Date(inv.issuedAt) },
  })
  const chunks: Buffer[] = []
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c))
    doc.on('end', () => resolve(Buffer.concat(chunks)))
    doc.on('error', reject)
  })
  const one = 10 ** minorDigits(inv.currency)
  doc
    .font('Helvetica-Bold')
    .fontSize(20)
    .text(`Invoice ${inv.number ?? '(draft)'}`)
  doc.moveDown(0.5).font('Helvetica').fontSize(10)
  doc.text(`Account: ${account.name || account.id} (${account.id})`)
  if (inv.billTo) {
    const b = inv.billTo
    doc.text(`Bill to: ${b.company}${b.address ? `, ${b.address.replace(/\r?\n/g, ', ')}` : ''}`)
    if (b.taxId || b.email) doc.text([b.taxId ? `Tax id: ${b.taxId}` : '', b.email ? `Billing e-mail: ${b.email}` : ''].filter(Boolean).join('   '))
  }
  doc.text(`Issued: ${inv.issuedDate}`)
  if (inv.period) doc.text(`Period: ${inv.period.startDate} to ${inv.period.endDate} (end exclusive)`)
  doc.text(`Amounts: integers in minor units of ${inv.currency} (${one} = ${formatMinor(one, inv.currency)} ${inv.currency})`)
  doc.text('Each line: quantity × unit price × months × proration, rounded half to even, less the discount = amount')
  doc.moveDown()

  const header = doc.y
  doc.font('Helvetica-Bold').fontSize(9)
  for (const c of COLS) doc.text(c.title, c.x, header, { width: c.w, align: c.align })
  doc.font('Helvetica').moveDown(0.5)
  for (const l of inv.lines) {
    if (doc.y > 530) doc.addPage()
    const y = doc.y
    const c = lineColumns(l)
    const cells: Record<(typeof COLS)[number]['key'], string> = {
      description: l.description,
      from: c.from,
      to: c.to,
      quantity: String(c.quantity),
      unitPrice: String(c.unitPrice),
      months: String(c.months),
      proration: formatProration(c.proration),
      discount: String(c.discount),
      amount: String(c.amount),
    }
    let bottom = y
    for (const col of COLS) {
      doc.text(cells[col.key], col.x, y, { width: col.w, align: col.align })
      bottom = Math.max(bottom, doc.y)
    }
    doc.y = bottom + 4
  }
  doc.moveDown().fontSize(10)
  doc.font('Helvetica-Bold').text(`Total: ${inv.total} (minor units of ${inv.currency})`, 40, doc.y, { width: 762, align: 'right' })
  doc.end()
  return done
}
