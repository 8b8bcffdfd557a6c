/**
 * The dashboard page (`GET /dashboard`, routes/dashboard.ts): the read API for people
 * (docs/protocol.md §5), signed in by the cookie the sign-in form set. Each section has its
 * module; this entry wires them up and loads them.
 */
import { need, get } from '../shared/api.js'
import { fill } from '../shared/dom.js'
import { account } from '../shared/format.js'
import type { CreditLogAnswer, InvoicesAnswer, NoticesAnswer, PeriodAnswer, RejectionsAnswer, UsageAnswer } from './answers.js'
import { resizeChartsWithWindow } from './charts.js'
import { renderCreditLog } from './credits.js'
import { renderInvoices } from './invoices.js'
import { renderNotices } from './notices.js'
import { part } from './part.js'
import { renderPeriod } from './period.js'
import { rangeForm, rangeFromUrl, showRange, wireRange } from './range.js'
import { renderRejections } from './rejections.js'

async function main(): Promise<void> {
  wireRange()
  // The server knows the account's time zone: its default range says which day is today there.
  await part('#usage-error', async () => {
    const range = await need<UsageAnswer>('/v1/usage')
    account.today = range.to
    account.zone = range.timezone
    const form = rangeForm()
    form.from.max = account.today
    form.to.max = account.today
    fill('#zone-note', `Times are shown in ${account.zone}, the account's time zone.`)
    const chosen = rangeFromUrl()
    await (chosen ? showRange(chosen.from, chosen.to, 'none') : showRange(range.from, range.to, 'replace'))
  })
  await Promise.all([
    part('#period-bounds', async () => renderPeriod(await get<PeriodAnswer>('/v1/period'))),
    part('#credit-log', async () => renderCreditLog(await get<CreditLogAnswer>('/v1/credits/log'))),
    part('#invoice-list', async () => renderInvoices(await get<InvoicesAnswer>('/v1/invoices'))),
    part('#rejection-list', async () => renderRejections(await get<RejectionsAnswer>('/v1/rejections'))),
    part('#notices', async () => renderNotices(await get<NoticesAnswer>('/v1/notices'))),
  ])
  document.body.dataset.ready = 'true'
}

resizeChartsWithWindow()
void main()
