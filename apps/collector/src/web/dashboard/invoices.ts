/** The invoice list (`GET /v1/invoices`), newest first, each with its downloads and its evidence. */
import { el, fill } from '../shared/dom.js'
import { money } from '../shared/format.js'
import { pagedTable } from '../shared/table.js'
import type { InvoicesAnswer } from './answers.js'

export function renderInvoices(list: InvoicesAnswer | null): void {
  if (!list) {
    fill('#invoice-list', el('p', { class: 'empty' }, 'Invoices are not enabled on this collector.'))
    return
  }
  const rows = list.invoices.slice().sort((a, b) => b.issuedDate.localeCompare(a.issuedDate) || (b.number ?? 0) - (a.number ?? 0))
  pagedTable(
    '#invoice-list',
    rows,
    [
      ['Number', (r) => r.number],
      ['Issued', (r) => r.issuedDate],
      ['Kind', (r) => r.kind],
      ['Period', (r) => (r.period ? `${r.period.startDate} – ${r.period.endDate}` : '')],
      ['Total', (r) => money(r.total, r.currency), true],
      [
        'Download',
        (r) =>
          el(
            'span',
            {},
            el('a', { href: `/v1/invoices/${r.number}.pdf`, 'data-download': 'pdf', 'aria-label': `Invoice ${r.number} as PDF` }, 'PDF'),
            ' · ',
            el('a', { href: `/v1/invoices/${r.number}.csv`, 'data-download': 'csv', 'aria-label': `Invoice ${r.number} as CSV` }, 'CSV'),
            ' · ',
            el('a', { href: `/v1/invoices/${r.number}.json`, 'aria-label': `Invoice ${r.number} as JSON` }, 'JSON'),
            ' · ',
            // docs/evidence.md: the units behind each line, to check the amount against.
            el(
              'a',
              { href: `/v1/invoices/${r.number}/evidence.csv`, 'data-download': 'evidence', 'aria-label': `Why this amount, invoice ${r.number}` },
              'Why this amount',
            ),
          ),
      ],
    ],
    'No invoices yet: the first one is issued at the end of the first period.',
    'invoices',
  )
}
