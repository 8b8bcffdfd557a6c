/** Refused beacons of the last 7 days (`GET /v1/rejections`): a summary by reason, then each (container, reason, origin). */
import { el, fill } from '../shared/dom.js'
import { account, fmt, localTime } from '../shared/format.js'
import { table } from '../shared/table.js'
import type { RejectionsAnswer } from './answers.js'
import { REASONS } from './reasons.js'

const reasonText = (reason: string): string => (Object.hasOwn(REASONS, reason) ? REASONS[reason as keyof typeof REASONS] : '')

export function renderRejections(r: RejectionsAnswer | null): void {
  if (r?.timezone) account.zone = r.timezone
  const rows = (r?.rejections ?? []).slice().sort((a, b) => b.count - a.count || String(b.lastSeen).localeCompare(String(a.lastSeen)))
  const byReason = new Map<string, number>()
  for (const x of rows) byReason.set(x.reason, (byReason.get(x.reason) ?? 0) + x.count)
  const summary = byReason.size
    ? el(
        'ul',
        { class: 'reasons', 'aria-label': 'Refusals by reason' },
        ...[...byReason].map(([reason, count]) =>
          el('li', { 'data-reason': reason }, el('strong', {}, fmt(count)), ' ', el('code', {}, reason), ' — ', reasonText(reason)),
        ),
      )
    : el('p', { class: 'empty' }, 'No refused beacons in the last 7 days.')
  fill(
    '#rejection-list',
    summary,
    rows.length
      ? table(rows, [
          ['Container', (x) => x.container],
          ['Reason', (x) => el('code', { title: reasonText(x.reason) }, x.reason)],
          ['Origin', (x) => x.origin || '(none)'],
          ['Count', (x) => x.count, true],
          [`Last seen (${account.zone})`, (x) => localTime(x.lastSeen)],
        ])
      : '',
  )
}
