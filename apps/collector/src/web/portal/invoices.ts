/** The portal page's invoice history section: every invoice with its payment status and downloads. */
import type { State } from './api.js'
import { h } from './dom.js'
import { day, money } from './format.js'
import { state, section } from './page.js'

// --- Invoices ---

export function invoicesSection(): HTMLElement {
  const inv = state.invoices
  const status = (p: State['invoices'][number]['payment']) =>
    p === null
      ? h('span', { class: 'badge' }, 'Open')
      : h(
          'span',
          { class: `badge ${p.status === 'paid' ? 'ok' : p.status === 'failed' ? 'bad' : ''}`, title: `Reference ${p.reference}` },
          `${p.status[0]?.toUpperCase()}${p.status.slice(1)} ${day(p.date)}`,
        )
  const kind = (k: string) =>
    ({ recurring: 'Subscription', upgrade: 'Plan change', rebalance: 'Contacts', credits: 'Credit pack', emails: 'Email pack' })[k] ?? k
  return section(
    'invoices',
    'Invoice history',
    inv.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Date'),
                h('th', { scope: 'col' }, 'Invoice'),
                h('th', { scope: 'col' }, 'For'),
                h('th', { scope: 'col', class: 'n' }, 'Amount'),
                h('th', { scope: 'col' }, 'Payment'),
                h('th', { scope: 'col' }, 'Download'),
              ),
            ),
            h(
              'tbody',
              {},
              inv.map((i) =>
                h(
                  'tr',
                  {},
                  h('td', {}, day(i.issuedDate)),
                  h('td', {}, `#${i.number}`),
                  h('td', {}, kind(i.kind)),
                  h('td', { class: 'n' }, money(i.total, i.currency)),
                  h('td', {}, status(i.payment)),
                  h(
                    'td',
                    { class: 'downloads' },
                    ['pdf', 'csv', 'json'].map((f) =>
                      h(
                        'a',
                        { href: `/v1/portal/invoices/${i.number}.${f}`, download: '', 'aria-label': `Invoice ${i.number} as ${f.toUpperCase()}` },
                        f.toUpperCase(),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No invoices yet.'),
  )
}
