/*
 * The dashboard page: plain JavaScript over the read API (docs/protocol.md §5). The sign-in cookie
 * authenticates every fetch; all text goes in with textContent, never as HTML, because names
 * and origins come from configuration and from visitors.
 *
 * One time rule for the whole page: days are the account's calendar days, and every instant is
 * shown in the account's time zone with the zone named (the API answers carry `timezone`).
 */
'use strict'

const METERS = [
  ['impressions', 'Impressions'], ['engagements', 'Engagements'], ['chatSessions', 'Chat sessions'],
  ['alerts', 'Alert sessions'], ['credits', 'Credits'],
  // Units of sessions past the hourly cap per address: stored and shown, never billed (docs/security.md).
  ['suspicious', 'Suspicious (not billed)'],
]
const DAY = 86_400_000
const MAX_CHART_DAYS = 3660
const PAGE_SIZE = 10
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/

/** The account's zone and today there, from the first usage answer. */
const account = { zone: 'UTC', today: '' }

const $ = (sel) => document.querySelector(sel)
const fmt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : n == null ? '–' : String(n))

/** An element with text or children; attributes as an object. */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue
    if (k === 'class') e.className = v
    else e.setAttribute(k, v)
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)))
  return e
}

/** A table from column definitions `[header, (row) => value, numeric?]`, in a box that scrolls on its own when narrow. */
function table(rows, columns, empty = 'Nothing yet.') {
  if (!rows.length) return el('p', { class: 'empty' }, empty)
  const head = el('tr', {}, ...columns.map(([h, , n]) => el('th', { class: n ? 'n' : undefined, scope: 'col' }, h)))
  const body = rows.map((r) => el('tr', {}, ...columns.map(([, f, n]) => {
    const v = f(r)
    return el('td', { class: n ? 'n' : undefined }, v instanceof Node ? v : n ? fmt(v) : v ?? '')
  })))
  return el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...body)))
}

/** A table shown a page at a time, with Newer/Older buttons (the rows come newest first). */
function pagedTable(target, rows, columns, empty, label) {
  let page = 0
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE))
  const draw = () => {
    const shown = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)
    const nodes = [table(shown, columns, empty)]
    if (pages > 1) {
      const newer = el('button', { type: 'button', class: 'link', 'data-page': 'newer', 'aria-label': `Newer ${label}` }, '← Newer')
      const older = el('button', { type: 'button', class: 'link', 'data-page': 'older', 'aria-label': `Older ${label}` }, 'Older →')
      newer.disabled = page === 0
      older.disabled = page === pages - 1
      newer.addEventListener('click', () => { page--; draw() })
      older.addEventListener('click', () => { page++; draw() })
      nodes.push(el('nav', { class: 'pager', 'aria-label': `${label} pages` }, newer,
        el('span', { class: 'muted' }, ` ${page * PAGE_SIZE + 1}–${page * PAGE_SIZE + shown.length} of ${rows.length} `), older))
    }
    fill(target, ...nodes)
  }
  draw()
}

function fill(target, ...nodes) {
  const t = typeof target === 'string' ? $(target) : target
  t.replaceChildren(...nodes)
}

/** GET a read endpoint; `null` when the collector does not offer it (404). */
async function get(path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } })
  if (res.status === 401) {
    location.assign('/dashboard')
    throw new Error('signed out')
  }
  if (res.status === 404) return null
  const body = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`)
  return body
}

const money = (minor, currency) => {
  if (typeof minor !== 'number') return '–'
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(minor / 100)
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency ?? ''}`
  }
}

/** `YYYY-MM-DD HH:mm` of an instant (ms or ISO string) in the account's zone. */
function localTime(v, withZone = false) {
  const t = typeof v === 'number' ? v : Date.parse(v)
  if (!Number.isFinite(t)) return ''
  let parts
  try {
    parts = new Intl.DateTimeFormat('en-CA', {
      timeZone: account.zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).formatToParts(new Date(t))
  } catch {
    return new Date(t).toISOString().replace('T', ' ').slice(0, 16) + (withZone ? ' UTC' : '')
  }
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${withZone ? ` ${account.zone}` : ''}`
}
const localDay = (v) => localTime(v).slice(0, 10)

/** A name from the configuration with its id, or the id alone. */
const named = (id, name) => (name ? el('span', {}, name, ' ', el('span', { class: 'muted' }, `(${id})`)) : id)

// ---- Current period --------------------------------------------------------------------------

/** `GET /v1/period`: usage against the included quotas, credits, email quota, invoice preview. */
function renderPeriod(p) {
  if (!p) {
    fill('#period-bounds', 'No current period: the subscription has not started or has ended.')
    fill('#period-preview', el('p', { class: 'empty' }, 'No invoice to preview without a current period.'))
    return
  }
  if (p.timezone) account.zone = p.timezone
  fill('#period-bounds', `${p.period.startDate} – ${p.period.endDate} (the end day is not included) · plan ${p.planName ?? p.planId}, ${p.cycle}, ${fmt(p.seats)} seats, ${fmt(p.paidContacts)} paid contacts`)
  const cards = []
  for (const [m, label] of METERS.slice(0, 4)) {
    const used = p.meters[m] ?? 0
    const inc = p.included[m] ?? 0
    const share = inc > 0 ? Math.min(1, used / inc) : 1
    const bar = el('div', {
      class: used > inc ? 'bar over' : 'bar', role: 'meter', 'aria-label': `${label}: ${fmt(used)} of ${fmt(inc)} included`,
      'aria-valuemin': '0', 'aria-valuemax': String(inc), 'aria-valuenow': String(Math.min(used, inc)),
    }, el('span'))
    bar.firstChild.style.width = `${Math.round(share * 100)}%`
    cards.push(el('div', { class: 'card', 'data-period': m },
      el('span', { class: 'label' }, label), el('span', { class: 'value' }, fmt(used)),
      el('span', { class: 'sub' }, `of ${fmt(inc)} included`), bar))
  }
  cards.push(el('div', { class: 'card', 'data-period': 'emails' },
    el('span', { class: 'label' }, 'Emails left this month'), el('span', { class: 'value' }, fmt(p.emails.left)),
    el('span', { class: 'sub' }, `${fmt(p.emails.sent)} sent of ${fmt(p.emails.quota)}${p.emails.granted ? ` + ${fmt(p.emails.granted)} granted` : ''}`)))
  fill('#period-meters', ...cards)

  const byKind = Object.entries(p.meters.credits ?? {}).map(([kind, credits]) => ({ kind, credits }))
  const wallets = Object.entries(p.credits ?? {}).map(([wallet, w]) => ({ wallet, ...w }))
  fill('#period-credits',
    table(byKind, [['Spent on', (r) => r.kind], ['Credits', (r) => r.credits, true]], 'No credits spent this period.'),
    table(wallets, [
      ['Wallet', (r) => r.wallet],
      ['Free', (r) => r.lots.filter((l) => l.kind === 'free').reduce((n, l) => n + l.remaining, 0), true],
      ['Purchased', (r) => r.lots.filter((l) => l.kind === 'purchased').reduce((n, l) => n + l.remaining, 0), true],
      ['Balance', (r) => r.balance, true],
    ], 'No wallets yet.'))

  // The preview is the invoice of this period as it would be from the usage so far.
  const covers = el('p', { class: 'muted', 'data-preview-period': `${p.period.startDate}/${p.period.endDate}` },
    `For the period ${p.period.startDate} – ${p.period.endDate} (end day not included), from the usage so far, as of ${localTime(p.asOf, true)}: `
    + `${fmt(p.meters.impressions)} impressions, ${fmt(p.meters.engagements)} engagements, ${fmt(p.meters.chatSessions)} chat sessions, ${fmt(p.meters.alerts)} alert sessions.`)
  const preview = p.preview
  if (!preview) {
    fill('#period-preview', covers, el('p', { class: 'empty' }, 'Nothing to bill at the end of this period so far.'))
    return
  }
  fill('#period-preview', covers, table(preview.lines, [
    ['Line', (r) => r.description], ['Amount', (r) => money(r.amount, preview.currency), true],
  ], 'Nothing to bill.'), el('p', { 'data-preview-total': String(preview.total) }, el('strong', {}, `Total so far ${money(preview.total, preview.currency)}`),
    el('span', { class: 'muted' }, ` · to be issued ${preview.issuedDate}`)))
}

// ---- Usage over a range ----------------------------------------------------------------------

const charts = new Map()

function addDays(day, n) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10)
}

/** Every day of the inclusive range, so that days without usage show as zero. */
function daysOf(from, to) {
  const out = []
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY) out.push(new Date(t).toISOString().slice(0, 10))
  return out
}

function dropChart(meter) {
  charts.get(meter)?.destroy()
  charts.delete(meter)
}

/** A tooltip that follows the cursor: the day and the count under it. */
function tooltipPlugin(label) {
  let tip
  return {
    hooks: {
      init: (u) => {
        tip = el('div', { class: 'tip', role: 'status', 'aria-live': 'polite' })
        tip.hidden = true
        u.over.append(tip)
        u.over.addEventListener('mouseleave', () => { tip.hidden = true })
      },
      setCursor: (u) => {
        const i = u.cursor.idx
        if (i == null || u.cursor.left < 0) {
          tip.hidden = true
          return
        }
        const day = new Date(u.data[0][i] * 1000).toISOString().slice(0, 10)
        tip.textContent = `${day}: ${fmt(u.data[1][i])} ${label.toLowerCase()}`
        tip.hidden = false
        const x = Math.min(u.cursor.left + 10, u.over.clientWidth - tip.offsetWidth - 2)
        tip.style.transform = `translate(${Math.max(0, x)}px, ${Math.max(0, u.cursor.top - 34)}px)`
      },
    },
  }
}

function drawChart(node, meter, label, days, values) {
  dropChart(meter)
  const total = values.reduce((a, b) => a + b, 0)
  if (total === 0) {
    // An empty state, not a flat line along zero that looks like a broken chart.
    node.removeAttribute('role')
    node.removeAttribute('aria-label')
    fill(node, el('p', { class: 'empty chart-empty' }, `No ${label.toLowerCase()} from ${days[0]} to ${days[days.length - 1]}.`))
    return
  }
  let peak = 0
  for (let i = 1; i < values.length; i++) if (values[i] > values[peak]) peak = i
  node.setAttribute('role', 'img')
  node.setAttribute('aria-label', `${label} per day from ${days[0]} to ${days[days.length - 1]}: ${fmt(total)} in all, at most ${fmt(values[peak])} on ${days[peak]}.`)
  node.replaceChildren()
  if (typeof uPlot !== 'function') {
    fill(node, el('p', { class: 'empty' }, 'The chart library did not load.'))
    return
  }
  const data = [days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000), values]
  const width = Math.max(240, node.clientWidth || 320)
  const chart = new uPlot({
    width, height: 200, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'), legend: { show: false },
    cursor: { points: { size: 7 }, drag: { x: false, y: false } },
    plugins: [tooltipPlugin(label)],
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    // Counts are whole: no 0.25 ticks on the y axis.
    axes: [{}, { size: 50, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6] }],
    series: [{}, { label, stroke: '#3b5bdb', fill: 'rgba(59,91,219,0.12)', width: 2, points: { show: days.length <= 40 } }],
  }, data, node)
  charts.set(meter, chart)
}

/** Replaces every number of the usage section with a message: stale totals never sit beside an error. */
function usageError(message) {
  fill('#usage-error', message)
  $('#usage-error').hidden = false
  for (const [m] of METERS) $(`[data-total="${m}"]`).textContent = '–'
  for (const node of document.querySelectorAll('[data-chart]')) {
    dropChart(node.dataset.chart)
    node.removeAttribute('role')
    node.removeAttribute('aria-label')
    fill(node, el('p', { class: 'empty' }, 'No chart: see the message above.'))
  }
  for (const id of ['#by-container', '#by-campaign', '#by-advisor', '#by-bot']) fill(id)
  fill('#usage-zone')
  showSuspicious(null)
}

/** The suspicious card's note: what the number is, or the empty state; null while there is no number. */
function showSuspicious(units) {
  $('#suspicious-card').classList.toggle('some', units > 0)
  fill('#suspicious-note', units == null ? ''
    : units > 0 ? 'Units past the hourly cap of new sessions per address: not in the billed figures, not invoiced.'
      : 'None in this range: every session was within the hourly cap.')
}

/** The range's problem in words, or null: checked here so that the page never shows numbers for a range it refuses. */
function rangeProblem(from, to) {
  if (!ISO_DAY.test(from) || !ISO_DAY.test(to)) return 'Choose a From and a To date.'
  if (account.today && to > account.today) return `To (${to}) is in the future: the last day with usage is today, ${account.today} (${account.zone}).`
  if (from > to) return `From (${from}) is after To (${to}): choose a From on or before the To.`
  return null
}

async function loadUsage(from, to) {
  const problem = rangeProblem(from, to)
  if (problem) {
    usageError(problem)
    return
  }
  const q = `from=${from}&to=${to}`
  $('#usage-csv').href = `/v1/usage?${q}&groupBy=day,container,campaign,advisor,bot&format=csv`
  let answers
  try {
    answers = await Promise.all([
      get(`/v1/usage?${q}`), get(`/v1/usage?${q}&groupBy=day`), get(`/v1/usage?${q}&groupBy=container`),
      get(`/v1/usage?${q}&groupBy=campaign`), get(`/v1/usage?${q}&groupBy=advisor`), get(`/v1/usage?${q}&groupBy=bot`),
    ])
  } catch (e) {
    if (e.message !== 'signed out') usageError(`Could not load the usage: ${e.message}`)
    return
  }
  const [totals, daily, byContainer, byCampaign, byAdvisor, byBot] = answers
  $('#usage-error').hidden = true
  fill('#usage-error')
  fill('#usage-zone', `Days from ${totals.from} to ${totals.to}, both included, in ${totals.timezone}.`)
  const t = totals.rows[0] ?? {}
  for (const [m] of METERS) $(`[data-total="${m}"]`).textContent = fmt(t[m] ?? 0)
  showSuspicious(t.suspicious ?? 0)

  const byDay = new Map(daily.rows.map((r) => [r.day, r]))
  const span = (Date.parse(totals.to) - Date.parse(totals.from)) / DAY + 1
  for (const node of document.querySelectorAll('[data-chart]')) {
    const m = node.dataset.chart
    // A day per point: beyond ten years the chart would say nothing and cost the browser a lot.
    if (span > MAX_CHART_DAYS) {
      dropChart(m)
      fill(node, el('p', { class: 'empty' }, `Choose at most ${MAX_CHART_DAYS} days to see the daily chart.`))
      continue
    }
    const days = daysOf(totals.from, totals.to)
    const label = METERS.find(([k]) => k === m)?.[1] ?? m
    drawChart(node, m, label, days, days.map((d) => byDay.get(d)?.[m] ?? 0))
  }

  const num = (m, label) => [label, (r) => r[m], true]
  const names = (answer, kind) => answer.names?.[kind] ?? {}
  // Server-side usage (alerts, credits) has no container: the totals above count it.
  const containers = byContainer.rows.filter((r) => r.container)
  // A column of suspicious units only when there are some: they are not billed, so they never add to the others.
  const notBilled = containers.some((r) => r.suspicious > 0)
    ? [[el('span', { title: 'Suspicious units: past the hourly cap of new sessions per address, stored and never invoiced' }, 'Not billed'), (r) => r.suspicious, true]]
    : []
  fill('#by-container', table(containers, [
    ['Container', (r) => named(r.container, r.containerName)],
    num('impressions', 'Impr.'), num('engagements', 'Eng.'), num('chatSessions', 'Chat'), ...notBilled,
  ], 'No page usage in this range.'))
  fill('#by-campaign', table(byCampaign.rows.filter((r) => r.campaign), [['Campaign', (r) => named(r.campaign, names(byCampaign, 'campaign')[r.campaign])], num('impressions', 'Impressions')], 'No impressions in this range.'))
  fill('#by-advisor', table(byAdvisor.rows.filter((r) => r.advisor), [['Advisor', (r) => named(r.advisor, names(byAdvisor, 'advisor')[r.advisor])], num('engagements', 'Engagements')], 'No engagements in this range.'))
  fill('#by-bot', table(byBot.rows.filter((r) => r.bot), [['Bot', (r) => named(r.bot, names(byBot, 'bot')[r.bot])], num('chatSessions', 'Chat sessions')], 'No chat sessions in this range.'))
}

// ---- Credits, invoices, refused beacons ------------------------------------------------------

function renderCreditLog(log) {
  if (!log) {
    fill('#credit-log', el('p', { class: 'empty' }, 'Credits are not enabled on this collector.'))
    return
  }
  if (log.timezone) account.zone = log.timezone
  const detail = (e) => {
    if (e.type === 'spend') return `${e.action} × ${e.quantity}`
    if (e.type === 'purchase') return `pack ${e.pack}`
    if (e.type === 'transfer_out') return `to ${e.to}`
    if (e.type === 'transfer_in') return `from ${e.from}`
    if (e.type === 'grant') return `free, expires ${localDay(e.expiresAt)}`
    if (e.type === 'expiry') return `lot ${e.lot}`
    return ''
  }
  const signed = (e) => (['spend', 'transfer_out', 'expiry'].includes(e.type) ? -e.credits : e.credits)
  // Newest first: the log is written in order, so its reverse is by time, latest on top.
  const rows = log.entries.slice().reverse()
  pagedTable('#credit-log', rows, [
    [`When (${account.zone})`, (r) => localTime(r.at ?? r.time)], ['Entry', (r) => r.type.replace('_', ' ')],
    ['Wallet', (r) => r.wallet], ['Detail', detail], ['Credits', signed, true],
  ], 'No credit movements yet.', 'credit log')
}

function renderInvoices(list) {
  if (!list) {
    fill('#invoice-list', el('p', { class: 'empty' }, 'Invoices are not enabled on this collector.'))
    return
  }
  const rows = list.invoices.slice().sort((a, b) => (b.issuedDate.localeCompare(a.issuedDate)) || ((b.number ?? 0) - (a.number ?? 0)))
  pagedTable('#invoice-list', rows, [
    ['Number', (r) => r.number], ['Issued', (r) => r.issuedDate], ['Kind', (r) => r.kind],
    ['Period', (r) => (r.period ? `${r.period.startDate} – ${r.period.endDate}` : '')],
    ['Total', (r) => money(r.total, r.currency), true],
    ['Download', (r) => el('span', {},
      el('a', { href: `/v1/invoices/${r.number}.pdf`, 'data-download': 'pdf', 'aria-label': `Invoice ${r.number} as PDF` }, 'PDF'), ' · ',
      el('a', { href: `/v1/invoices/${r.number}.csv`, 'data-download': 'csv', 'aria-label': `Invoice ${r.number} as CSV` }, 'CSV'), ' · ',
      el('a', { href: `/v1/invoices/${r.number}.json`, 'aria-label': `Invoice ${r.number} as JSON` }, 'JSON'), ' · ',
      // docs/evidence.md: the units behind each line, to check the amount against.
      el('a', { href: `/v1/invoices/${r.number}/evidence.csv`, 'data-download': 'evidence', 'aria-label': `Why invoice ${r.number} has this amount` }, 'Why this amount'))],
  ], 'No invoices yet: the first one is issued at the end of the first period.', 'invoices')
}

/**
 * What each refusal means and what to do about it (docs/protocol.md §3, docs/collector.md
 * "Ingestion"): one text for every reason the collector records (REFUSAL_REASONS in
 * ../domain/refusals.ts; a test holds the two together).
 */
const REASONS = {
  unknown_container: 'Unknown container: no container has this id. Check data-container on the page.',
  origin_not_allowed: 'Wrong origin: the page\'s domain is not among the container\'s domains. Add it to the container\'s domains if the page is yours.',
  origin_missing: 'No origin: the request named no page, so it was not sent by a browser page (a script or a tool). Beacons must come from the page itself.',
  origin_null: 'Origin "null": a sandboxed frame or a file:// page. Serve the page from its domain.',
  origin_invalid: 'Unreadable origin: the Origin or Referer header was not a web address. Not sent by a browser page; nothing to do unless it is frequent.',
  account_inactive: 'The account is paused: no beacon is counted until it is active again.',
  subscription_ended: 'The subscription has ended: no beacon is counted. Renew it to count again.',
  rate_limited: 'Too many requests: one address, or the whole container, sent faster than the collector\'s rate limits (server.rateLimits). The page retries later; if real traffic is refused, raise the limits.',
  payload_too_large: 'Too large: the request body was over 64 KB. The script sends smaller batches; a page sending its own beacons should send fewer events at a time.',
  invalid_json: 'Not JSON: the body was not JSON text in UTF-8. Something other than the Tally script sent it; send beacons with the script or as documented.',
  invalid_request: 'Cut off: the connection closed before the whole body arrived (the visitor left, or the network dropped). Nothing to do unless it is frequent.',
  invalid_batch: 'Malformed batch: the body was JSON but not a batch of events (a wrong version, a missing sentAt, too many events). Update the script, or fix a page that sends its own beacons.',
  bot: 'Bot: a crawler or a headless browser, dropped and not counted.',
  unknown_campaign: 'Unknown campaign id in the page. Add the campaign to the container, or fix the id on the page.',
  inactive_campaign: 'The campaign is switched off. Switch it on to count it.',
  unknown_advisor: 'Unknown advisor id in the page. Add the advisor to the container, or fix the id on the page.',
  inactive_advisor: 'The advisor is switched off. Switch it on to count it.',
  unknown_bot: 'Unknown or switched-off bot id in the page. Add or switch on the bot, or fix the id on the page.',
  suspicious: 'Suspicious: more new sessions from one address in an hour than the cap (server.sessionsPerHour). Their units are stored and shown under Usage as suspicious, never billed.',
  event_too_old: 'Sent too late: the event was more than 72 hours old when it arrived.',
  event_in_future: 'The device clock is ahead: the event was more than 5 minutes in the future.',
  invalid_event: 'A malformed event: a field missing, of the wrong type, or too long. Update the script, or fix a page that sends its own events.',
  conversation_too_long: 'The chat conversation already holds 1,000 events; later ones are not counted. Start a new conversation id for a new conversation.',
}

function renderRejections(r) {
  if (r?.timezone) account.zone = r.timezone
  const rows = (r?.rejections ?? []).slice().sort((a, b) => b.count - a.count || String(b.lastSeen).localeCompare(String(a.lastSeen)))
  const byReason = new Map()
  for (const x of rows) byReason.set(x.reason, (byReason.get(x.reason) ?? 0) + x.count)
  const summary = byReason.size
    ? el('ul', { class: 'reasons', 'aria-label': 'Refusals by reason' }, ...[...byReason].map(([reason, count]) =>
      el('li', { 'data-reason': reason }, el('strong', {}, fmt(count)), ' ', el('code', {}, reason), ' — ', REASONS[reason] ?? '')))
    : el('p', { class: 'empty' }, 'No refused beacons in the last 7 days.')
  fill('#rejection-list', summary, rows.length ? table(rows, [
    ['Container', (x) => x.container], ['Reason', (x) => el('code', { title: REASONS[x.reason] ?? '' }, x.reason)],
    ['Origin', (x) => x.origin || '(none)'],
    ['Count', (x) => x.count, true], [`Last seen (${account.zone})`, (x) => localTime(x.lastSeen)],
  ]) : '')
}

/** Runs one part of the page; a failing part says so without blanking the others. */
/** What the account should know now (GET /v1/notices): a failed payment first, until it is paid (docs/portal.md). */
function renderNotices(r) {
  const box = $('#notices')
  box.hidden = r.notices.length === 0
  fill(box, ...r.notices.map((n) => el('p', { class: `notice ${n.severity}`, ...(n.severity === 'critical' ? { role: 'alert' } : {}) }, n.message)))
}

async function part(target, fn) {
  try {
    await fn()
  } catch (e) {
    if (e.message !== 'signed out') fill(target, el('p', { class: 'error' }, `Could not load: ${e.message}`))
  }
}

// ---- The range in the URL --------------------------------------------------------------------

function rangeFromUrl() {
  const q = new URLSearchParams(location.search)
  const from = q.get('from')
  const to = q.get('to')
  return from && to && ISO_DAY.test(from) && ISO_DAY.test(to) ? { from, to } : null
}

/** Shows a range, and keeps it in the address so that a reload, a bookmark or Back shows it again. */
function showRange(from, to, how = 'push') {
  const form = $('#range')
  form.from.value = from
  form.to.value = to
  const url = `${location.pathname}?from=${from}&to=${to}`
  if (how === 'push' && `${location.pathname}${location.search}` !== url) history.pushState({ from, to }, '', url)
  if (how === 'replace') history.replaceState({ from, to }, '', url)
  return part('#usage-error', () => loadUsage(from, to))
}

async function main() {
  const form = $('#range')
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    showRange(form.from.value, form.to.value)
  })
  for (const b of form.querySelectorAll('[data-days]')) {
    // Presets count back from today in the account's zone, whatever the form holds.
    b.addEventListener('click', () => showRange(addDays(account.today, -(Number(b.dataset.days) - 1)), account.today))
  }
  addEventListener('popstate', () => {
    const r = rangeFromUrl()
    if (r) showRange(r.from, r.to, 'none')
  })
  // The server knows the account's time zone: its default range says which day is today there.
  await part('#usage-error', async () => {
    const range = await get('/v1/usage')
    account.today = range.to
    account.zone = range.timezone
    form.from.max = account.today
    form.to.max = account.today
    fill('#zone-note', `Times are shown in ${account.zone}, the account's time zone.`)
    const chosen = rangeFromUrl()
    await (chosen ? showRange(chosen.from, chosen.to, 'none') : showRange(range.from, range.to, 'replace'))
  })
  await Promise.all([
    part('#period-bounds', async () => renderPeriod(await get('/v1/period'))),
    part('#credit-log', async () => renderCreditLog(await get('/v1/credits/log'))),
    part('#invoice-list', async () => renderInvoices(await get('/v1/invoices'))),
    part('#rejection-list', async () => renderRejections(await get('/v1/rejections'))),
    part('#notices', async () => renderNotices(await get('/v1/notices'))),
  ])
  document.body.dataset.ready = 'true'
}

let resizing
addEventListener('resize', () => {
  clearTimeout(resizing)
  resizing = setTimeout(() => {
    for (const [m, chart] of charts) {
      const node = document.querySelector(`[data-chart="${m}"]`)
      chart.setSize({ width: Math.max(240, node.clientWidth), height: 200 })
    }
  }, 150)
})

main()
