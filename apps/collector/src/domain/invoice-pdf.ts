/**
 * The invoice as a PDF (pdfkit): the account, the invoice number, issue date and period, one row
 * per line (description, quantity, unit price, amount), the total and the currency. Built in
 * memory; `compress: false` leaves the text streams readable (tests search them).
 */
import PDFDocument from 'pdfkit'
import type { Invoice } from '@tally/billing'
import { formatMinor } from './invoice-csv.js'

export interface PdfOptions { compress?: boolean }

export function invoicePdf(inv: Invoice, account: { id: string; name: string }, opts: PdfOptions = {}): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4', margin: 50, compress: opts.compress ?? true,
    info: { Title: `Invoice ${inv.number ?? inv.key}`, Author: 'Tally', CreationDate: new Date(inv.issuedAt) },
  })
  const chunks: Buffer[] = []
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c))
    doc.on('end', () => resolve(Buffer.concat(chunks)))
    doc.on('error', reject)
  })
  const money = (n: number) => `${formatMinor(n, inv.currency)} ${inv.currency}`
  doc.font('Helvetica-Bold').fontSize(20).text(`Invoice ${inv.number ?? '(draft)'}`)
  doc.moveDown(0.5).font('Helvetica').fontSize(10)
  doc.text(`Account: ${account.name || account.id} (${account.id})`)
  doc.text(`Issued: ${inv.issuedDate}`)
  if (inv.period) doc.text(`Period: ${inv.period.startDate} to ${inv.period.endDate} (end exclusive)`)
  doc.text(`Currency: ${inv.currency}`)
  doc.moveDown()

  const cols = { description: 50, quantity: 300, unit: 370, amount: 460 }
  const header = doc.y
  doc.font('Helvetica-Bold')
  doc.text('Description', cols.description, header, { width: 240 })
  doc.text('Quantity', cols.quantity, header, { width: 60, align: 'right' })
  doc.text('Unit price', cols.unit, header, { width: 80, align: 'right' })
  doc.text('Amount', cols.amount, header, { width: 85, align: 'right' })
  doc.font('Helvetica').moveDown(0.5)
  for (const l of inv.lines) {
    if (doc.y > 740) doc.addPage()
    const y = doc.y
    doc.text(`${l.description} (${l.period.startDate} to ${l.period.endDate})`, cols.description, y, { width: 240 })
    const after = doc.y
    doc.text(String(l.quantity), cols.quantity, y, { width: 60, align: 'right' })
    doc.text(money(l.unitPrice), cols.unit, y, { width: 80, align: 'right' })
    doc.text(money(l.amount), cols.amount, y, { width: 85, align: 'right' })
    doc.y = Math.max(after, doc.y) + 4
  }
  doc.moveDown()
  doc.font('Helvetica-Bold').text(`Total: ${money(inv.total)}`, cols.description, doc.y, { width: 495, align: 'right' })
  doc.end()
  return done
}
