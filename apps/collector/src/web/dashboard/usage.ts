/** The usage section (`GET /v1/usage`): totals, daily charts and the tables by container, campaign, advisor and bot. */
import { MAX_DAY_ROWS, USAGE_METERS, rangeDays, rangeProblem, type UsageMeter } from '@tally/protocol/contract'
import { $, el, fill } from '../shared/dom.js'
import { get, failure } from '../shared/api.js'
import { account, fmt, named } from '../shared/format.js'
import { table, type Column } from '../shared/table.js'
import type { UsageAnswer, UsageRow } from './answers.js'
import { daysOf, drawChart, dropChart } from './charts.js'
import { METER_LABELS } from './meters.js'

const total = (m: UsageMeter) => $(`[data-total="${m}"]`)

/** Replaces every number of the usage section with a message: stale totals never sit beside an error. */
export function usageError(message: string): void {
  fill('#usage-error', message)
  $('#usage-error').hidden = false
  for (const m of USAGE_METERS) total(m).textContent = '–'
  for (const node of document.querySelectorAll<HTMLElement>('[data-chart]')) {
    dropChart(node.dataset.chart ?? '')
    node.removeAttribute('role')
    node.removeAttribute('aria-label')
    fill(node, el('p', { class: 'empty' }, 'No chart: see the message above.'))
  }
  for (const id of ['#by-container', '#by-campaign', '#by-advisor', '#by-bot']) fill(id)
  fill('#usage-zone')
  showSuspicious(null)
}

/** The suspicious card's note: what the number is, or the empty state; null while there is no number. */
function showSuspicious(units: number | null): void {
  $('#suspicious-card').classList.toggle('some', units !== null && units > 0)
  fill(
    '#suspicious-note',
    units == null
      ? ''
      : units > 0
        ? 'Units past the hourly cap of new sessions per address: not in the billed figures, not invoiced.'
        : 'None in this range: every session was within the hourly cap.',
  )
}

/**
 * The range's problem in words, or null: the report's range rule (@tally/protocol), and no day
 * after today, so that the page never shows numbers for a range it refuses.
 */
export function rangeMessage(from: string, to: string): string | null {
  const problem = rangeProblem(from, to)
  if (problem?.problem === 'not_a_day') return 'Choose a From and a To date.'
  if (account.today && to > account.today) return `To (${to}) is in the future: the last day with usage is today, ${account.today} (${account.zone}).`
  if (problem) return `From (${from}) is after To (${to}): choose a From on or before the To.`
  return null
}

/** The latest range asked for: an answer to an earlier one arrives late and is dropped, never shown over it. */
let latest = 0

export async function loadUsage(from: string, to: string): Promise<void> {
  const mine = ++latest
  const problem = rangeMessage(from, to)
  if (problem) {
    usageError(problem)
    return
  }
  const q = `from=${from}&to=${to}`
  $<HTMLAnchorElement>('#usage-csv').href = `/v1/usage?${q}&groupBy=day,container,campaign,advisor,bot&format=csv`
  let answers: UsageAnswer[]
  try {
    const usage = async (groupBy: string) => {
      const a = await get<UsageAnswer>(`/v1/usage?${q}${groupBy}`)
      if (!a) throw new Error('HTTP 404')
      return a
    }
    answers = await Promise.all(['', '&groupBy=day', '&groupBy=container', '&groupBy=campaign', '&groupBy=advisor', '&groupBy=bot'].map(usage))
  } catch (e) {
    const message = failure(e)
    if (message !== null && mine === latest) usageError(`Could not load the usage: ${message}`)
    return
  }
  if (mine !== latest) return
  const [totals, daily, byContainer, byCampaign, byAdvisor, byBot] = answers as [UsageAnswer, UsageAnswer, UsageAnswer, UsageAnswer, UsageAnswer, UsageAnswer]
  $('#usage-error').hidden = true
  fill('#usage-error')
  fill('#usage-zone', `Days from ${totals.from} to ${totals.to}, both included, in ${totals.timezone}.`)
  const t: UsageRow = totals.rows[0] ?? {}
  for (const m of USAGE_METERS) total(m).textContent = fmt(t[m] ?? 0)
  showSuspicious(t.suspicious ?? 0)

  const byDay = new Map(daily.rows.map((r) => [r.day, r]))
  const span = rangeDays(totals.from, totals.to)
  for (const node of document.querySelectorAll<HTMLElement>('[data-chart]')) {
    const m = node.dataset.chart as UsageMeter
    // A day per point, as many days as the report groups by day: beyond ten years the chart
    // would say nothing and cost the browser a lot.
    if (span > MAX_DAY_ROWS) {
      dropChart(m)
      fill(node, el('p', { class: 'empty' }, `Choose at most ${MAX_DAY_ROWS} days to see the daily chart.`))
      continue
    }
    const days = daysOf(totals.from, totals.to)
    drawChart(
      node,
      m,
      METER_LABELS[m] ?? m,
      days,
      days.map((d) => byDay.get(d)?.[m] ?? 0),
    )
  }

  const num = (m: UsageMeter, label: string): Column<UsageRow> => [label, (r) => r[m], true]
  const names = (answer: UsageAnswer, kind: 'campaign' | 'advisor' | 'bot') => answer.names?.[kind] ?? {}
  // Server-side usage (alerts, credits) has no container: the totals above count it.
  const containers = byContainer.rows.filter((r) => r.container)
  // A column of suspicious units only when there are some: they are not billed, so they never add to the others.
  const notBilled: Column<UsageRow>[] = containers.some((r) => (r.suspicious ?? 0) > 0)
    ? [
        [
          el('span', { title: 'Suspicious units: past the hourly cap of new sessions per address, stored and never invoiced' }, 'Not billed'),
          (r) => r.suspicious,
          true,
        ],
      ]
    : []
  fill(
    '#by-container',
    table(
      containers,
      [
        ['Container', (r) => named(r.container as string, r.containerName)],
        num('impressions', 'Impr.'),
        num('engagements', 'Eng.'),
        num('chatSessions', 'Chat'),
        ...notBilled,
      ],
      'No page usage in this range.',
    ),
  )
  fill(
    '#by-campaign',
    table(
      byCampaign.rows.filter((r) => r.campaign),
      [['Campaign', (r) => named(r.campaign as string, names(byCampaign, 'campaign')[r.campaign as string])], num('impressions', 'Impressions')],
      'No impressions in this range.',
    ),
  )
  fill(
    '#by-advisor',
    table(
      byAdvisor.rows.filter((r) => r.advisor),
      [['Advisor', (r) => named(r.advisor as string, names(byAdvisor, 'advisor')[r.advisor as string])], num('engagements', 'Engagements')],
      'No engagements in this range.',
    ),
  )
  fill(
    '#by-bot',
    table(
      byBot.rows.filter((r) => r.bot),
      [['Bot', (r) => named(r.bot as string, names(byBot, 'bot')[r.bot as string])], num('chatSessions', 'Chat sessions')],
      'No chat sessions in this range.',
    ),
  )
}
