/** The credit log (`GET /v1/credits/log`), newest first, a page at a time. */
import { el, fill } from '../shared/dom.js'
import { account, localDay, localTime } from '../shared/format.js'
import { pagedTable } from '../shared/table.js'
import type { CreditEntry, CreditLogAnswer } from './answers.js'

/** What an entry was about, by its type. */
function detail(e: CreditEntry): string {
  if (e.type === 'spend') return `${e.action} × ${e.quantity}`
  if (e.type === 'purchase') return `pack ${e.pack}`
  if (e.type === 'transfer_out') return `to ${e.to}`
  if (e.type === 'transfer_in') return `from ${e.from}`
  if (e.type === 'grant') return `free, expires ${localDay(e.expiresAt)}`
  if (e.type === 'expiry') return `lot ${e.lot}`
  return ''
}

/** Credits that left the wallet count negative. */
const signed = (e: CreditEntry) => (['spend', 'transfer_out', 'expiry'].includes(e.type) ? -e.credits : e.credits)

export function renderCreditLog(log: CreditLogAnswer | null): void {
  if (!log) {
    fill('#credit-log', el('p', { class: 'empty' }, 'Credits are not enabled on this collector.'))
    return
  }
  if (log.timezone) account.zone = log.timezone
  // Newest first: the log is written in order, so its reverse is by time, latest on top.
  const rows = log.entries.slice().reverse()
  pagedTable(
    '#credit-log',
    rows,
    [
      [`When (${account.zone})`, (r) => localTime(r.at ?? r.time)],
      ['Entry', (r) => r.type.replace('_', ' ')],
      ['Wallet', (r) => r.wallet],
      ['Detail', detail],
      ['Credits', signed, true],
    ],
    'No credit movements yet.',
    'credit log',
  )
}
