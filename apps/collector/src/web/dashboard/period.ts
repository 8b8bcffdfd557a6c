/** The current period card (`GET /v1/period`): usage against the included quotas, credits, email quota, invoice preview. */
import { METERS as PLAN_METERS } from '@tally/protocol/contract'
import { el, fill } from '../shared/dom.js'
import { account, fmt, localTime, money } from '../shared/format.js'
import { table } from '../shared/table.js'
import type { PeriodAnswer } from './answers.js'
import { METER_LABELS } from './meters.js'

export function renderPeriod(p: PeriodAnswer | null): void {
  if (!p) {
    fill('#period-bounds', 'No current period: the subscription has not started or has ended.')
    fill('#period-preview', el('p', { class: 'empty' }, 'No invoice to preview without a current period.'))
    return
  }
  if (p.timezone) account.zone = p.timezone
  fill(
    '#period-bounds',
    `${p.period.startDate} – ${p.period.endDate} (the end day is not included) · plan ${p.planName ?? p.planId}, ${p.cycle}, ${fmt(p.seats)} seats, ${fmt(p.paidContacts)} paid contacts`,
  )
  const cards: HTMLElement[] = []
  // The plan's metered units, each against what the plan includes.
  for (const m of PLAN_METERS) {
    const label = METER_LABELS[m]
    const used = p.meters[m] ?? 0
    const inc = p.included[m] ?? 0
    const share = inc > 0 ? Math.min(1, used / inc) : 1
    const fillBar = el('span')
    fillBar.style.width = `${Math.round(share * 100)}%`
    const bar = el(
      'div',
      {
        class: used > inc ? 'bar over' : 'bar',
        role: 'meter',
        'aria-label': `${label}: ${fmt(used)} of ${fmt(inc)} included`,
        'aria-valuemin': '0',
        'aria-valuemax': String(inc),
        'aria-valuenow': String(Math.min(used, inc)),
      },
      fillBar,
    )
    cards.push(
      el(
        'div',
        { class: 'card', 'data-period': m },
        el('span', { class: 'label' }, label),
        el('span', { class: 'value' }, fmt(used)),
        el('span', { class: 'sub' }, `of ${fmt(inc)} included`),
        bar,
      ),
    )
  }
  cards.push(
    el(
      'div',
      { class: 'card', 'data-period': 'emails' },
      el('span', { class: 'label' }, 'Emails left this month'),
      el('span', { class: 'value' }, fmt(p.emails.left)),
      el('span', { class: 'sub' }, `${fmt(p.emails.sent)} sent of ${fmt(p.emails.quota)}${p.emails.granted ? ` + ${fmt(p.emails.granted)} granted` : ''}`),
    ),
  )
  fill('#period-meters', ...cards)

  const byKind = Object.entries(p.meters.credits ?? {}).map(([kind, credits]) => ({ kind, credits }))
  const wallets = Object.entries(p.credits ?? {}).map(([wallet, w]) => ({ wallet, ...w }))
  const remaining = (lots: { kind: string; remaining: number }[], kind: string) => lots.filter((l) => l.kind === kind).reduce((n, l) => n + l.remaining, 0)
  fill(
    '#period-credits',
    table(
      byKind,
      [
        ['Spent on', (r) => r.kind],
        ['Credits', (r) => r.credits, true],
      ],
      'No credits spent this period.',
    ),
    table(
      wallets,
      [
        ['Wallet', (r) => r.wallet],
        ['Free', (r) => remaining(r.lots, 'free'), true],
        ['Purchased', (r) => remaining(r.lots, 'purchased'), true],
        ['Balance', (r) => r.balance, true],
      ],
      'No wallets yet.',
    ),
  )

  // The preview is the invoice of this period as it would be from the usage so far.
  const covers = el(
    'p',
    { class: 'muted', 'data-preview-period': `${p.period.startDate}/${p.period.endDate}` },
    `For the period ${p.period.startDate} – ${p.period.endDate} (end day not included), from the usage so far, as of ${localTime(p.asOf, true)}: ` +
      `${fmt(p.meters.impressions)} impressions, ${fmt(p.meters.engagements)} engagements, ${fmt(p.meters.chatSessions)} chat sessions, ${fmt(p.meters.alerts)} alert sessions.`,
  )
  const preview = p.preview
  if (!preview) {
    fill('#period-preview', covers, el('p', { class: 'empty' }, 'Nothing to bill at the end of this period so far.'))
    return
  }
  fill(
    '#period-preview',
    covers,
    table(
      preview.lines,
      [
        ['Line', (r) => r.description],
        ['Amount', (r) => money(r.amount, preview.currency), true],
      ],
      'Nothing to bill.',
    ),
    el(
      'p',
      { 'data-preview-total': String(preview.total) },
      el('strong', {}, `Total so far ${money(preview.total, preview.currency)}`),
      el('span', { class: 'muted' }, ` · to be issued ${preview.issuedDate}`),
    ),
  )
}
