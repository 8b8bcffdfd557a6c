/*
 * The dashboard page: plain JavaScript over the read API (docs/protocol.md §5). The sign-in cookie
 * authenticates every fetch; all text goes in with textContent, never as HTML, because names
 * and origins come from configuration and from visitors.
 */
'use strict'

const METERS = [
  ['impressions', 'Impressions'], ['engagements', 'Engagements'], ['chatSessions', 'Chat sessions'],
  ['alerts', 'Alert sessions'], ['credits', 'Credits'],
]

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

/** A table from column definitions `[header, (row) => value, numeric?]`. */
function table(rows, columns, empty = 'Nothing yet.') {
  if (!rows.length) return el('p', { class: 'empty' }, empty)
  const head = el('tr', {}, ...columns.map(([h, , n]) => el('th', { class: n ? 'n' : undefined }, h)))
  const body = rows.map((r) => el('tr', {}, ...columns.map(([, f, n]) => {
    const v = f(r)
    return el('td', { class: n ? 'n' : undefined }, v instanceof Node ? v : n ? fmt(v) : v ?? '')
  })))
  return el('table', {}, el('thead', {}, head), el('tbody', {}, ...body))
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
const dateOf = (v) => (typeof v === 'number' ? new Date(v).toISOString().slice(0, 10) : v ?? '')

// ---- Current period --------------------------------------------------------------------------

/** `GET /v1/period`: usage against the included quotas, credits, email quota, invoice preview. */
function renderPeriod(p) {
  if (!p) {
    fill('#period-bounds', 'No current period: the subscription has not started or has ended.')
    return
  }
  fill('#period-bounds', `${p.period.startDate} – ${p.period.endDate} (the end day is not included) · plan ${p.planId}, ${p.cycle}, ${fmt(p.seats)} seats, ${fmt(p.paidContacts)} paid contacts`)
  const cards = []
  for (const [m, label] of METERS.slice(0, 4)) {
    const used = p.meters[m] ?? 0
    const inc = p.included[m] ?? 0
    const bar = el('div', { class: used > inc ? 'bar over' : 'bar' }, el('span'))
    bar.firstChild.style.width = `${Math.round((inc > 0 ? Math.min(1, used / inc) : 1) * 100)}%`
    cards.push(el('div', { class: 'card', 'data-period': m },
      el('span', { class: 'label' }, label), el('span', { class: 'value' }, fmt(used)),
      el('span', { class: 'sub' }, `of ${fmt(inc)} included`), bar))
  }
  cards.push(el('div', { class: 'card', 'data-period': 'emails' },
    el('span', { class: 'label' }, 'Emails left this month'), el('span', { class: 'value' }, fmt(p.emails.left)),
    el('span', { class: 'sub' }, `${fmt(p.emails.sent)} sent of ${fmt(p.emails.quota)}`)))
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

  const preview = p.preview
  if (!preview) {
    fill('#period-preview', el('p', { class: 'empty' }, 'Nothing to bill at the end of this period so far.'))
    return
  }
  fill('#period-preview', table(preview.lines, [
    ['Line', (r) => r.description], ['Amount', (r) => money(r.amount, preview.currency), true],
  ], 'Nothing to bill.'), el('p', { 'data-preview-total': String(preview.total) }, el('strong', {}, `Total ${money(preview.total, preview.currency)}`),
    el('span', { class: 'muted' }, ` · issued ${preview.issuedDate}`)))
}

// ---- Usage over a range ----------------------------------------------------------------------

const charts = new Map()
const DAY = 86_400_000
const MAX_CHART_DAYS = 3660

/** Every day of the inclusive range, so that days without usage show as zero. */
function daysOf(from, to) {
  const out = []
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY) out.push(new Date(t).toISOString().slice(0, 10))
  return out
}

function drawChart(node, meter, days, values) {
  const data = [days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000), values]
  const width = Math.max(280, node.clientWidth || 320)
  const old = charts.get(meter)
  if (old) old.destroy()
  node.replaceChildren()
  if (typeof uPlot !== 'function') {
    fill(node, el('p', { class: 'empty' }, 'The chart library did not load.'))
    return
  }
  const chart = new uPlot({
    width, height: 200, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'), legend: { show: false },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    // Counts are whole: no 0.25 ticks on the y axis.
    axes: [{}, { size: 50, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6] }],
    series: [{}, { label: meter, stroke: '#3b5bdb', fill: 'rgba(59,91,219,0.12)', width: 2, points: { show: days.length <= 40 } }],
  }, data, node)
  charts.set(meter, chart)
}

async function loadUsage(from, to) {
  const q = `from=${from}&to=${to}`
  $('#usage-csv').href = `/v1/usage?${q}&groupBy=day,container,campaign,advisor,bot&format=csv`
  const [totals, daily, byContainer, byCampaign, byAdvisor, byBot] = await Promise.all([
    get(`/v1/usage?${q}`), get(`/v1/usage?${q}&groupBy=day`), get(`/v1/usage?${q}&groupBy=container`),
    get(`/v1/usage?${q}&groupBy=campaign`), get(`/v1/usage?${q}&groupBy=advisor`), get(`/v1/usage?${q}&groupBy=bot`),
  ])
  fill('#usage-zone', `Days from ${totals.from} to ${totals.to}, both included, in ${totals.timezone}.`)
  const t = totals.rows[0] ?? {}
  for (const [m] of METERS) $(`[data-total="${m}"]`).textContent = fmt(t[m] ?? 0)

  const byDay = new Map(daily.rows.map((r) => [r.day, r]))
  const span = (Date.parse(totals.to) - Date.parse(totals.from)) / DAY + 1
  for (const node of document.querySelectorAll('[data-chart]')) {
    const m = node.dataset.chart
    // A day per point: beyond ten years the chart would say nothing and cost the browser a lot.
    if (span > MAX_CHART_DAYS) {
      charts.get(m)?.destroy()
      charts.delete(m)
      fill(node, el('p', { class: 'empty' }, `Choose at most ${MAX_CHART_DAYS} days to see the daily chart.`))
      continue
    }
    const days = daysOf(totals.from, totals.to)
    drawChart(node, m, days, days.map((d) => byDay.get(d)?.[m] ?? 0))
  }

  const num = (m, label) => [label, (r) => r[m], true]
  // Server-side usage (alerts, credits) has no container: the totals above count it.
  fill('#by-container', table(byContainer.rows.filter((r) => r.container), [
    ['Container', (r) => (r.containerName ? `${r.containerName} (${r.container})` : r.container)],
    num('impressions', 'Impr.'), num('engagements', 'Eng.'), num('chatSessions', 'Chat'),
  ], 'No page usage in this range.'))
  fill('#by-campaign', table(byCampaign.rows.filter((r) => r.campaign), [['Campaign', (r) => r.campaign], num('impressions', 'Impressions')], 'No impressions in this range.'))
  fill('#by-advisor', table(byAdvisor.rows.filter((r) => r.advisor), [['Advisor', (r) => r.advisor], num('engagements', 'Engagements')], 'No engagements in this range.'))
  fill('#by-bot', table(byBot.rows.filter((r) => r.bot), [['Bot', (r) => r.bot], num('chatSessions', 'Chat sessions')], 'No chat sessions in this range.'))
}

// ---- Credits, invoices, refused beacons ------------------------------------------------------

function renderCreditLog(log) {
  if (!log) {
    fill('#credit-log', el('p', { class: 'empty' }, 'Credits are not enabled on this collector.'))
    return
  }
  const detail = (e) => {
    if (e.type === 'spend') return `${e.action} × ${e.quantity}`
    if (e.type === 'purchase') return `pack ${e.pack}`
    if (e.type === 'transfer_out') return `to ${e.to}`
    if (e.type === 'transfer_in') return `from ${e.from}`
    if (e.type === 'grant') return `free, expires ${dateOf(e.expiresAt)}`
    if (e.type === 'expiry') return `lot ${e.lot}`
    return ''
  }
  const signed = (e) => (['spend', 'transfer_out', 'expiry'].includes(e.type) ? -e.credits : e.credits)
  fill('#credit-log', table(log.entries.slice().reverse(), [
    ['When', (r) => r.time.replace('T', ' ').slice(0, 16)], ['Entry', (r) => r.type.replace('_', ' ')],
    ['Wallet', (r) => r.wallet], ['Detail', detail], ['Credits', signed, true],
  ], 'No credit movements yet.'))
}

function renderInvoices(list) {
  if (!list) {
    fill('#invoice-list', el('p', { class: 'empty' }, 'Invoices are not enabled on this collector.'))
    return
  }
  fill('#invoice-list', table(list.invoices, [
    ['Number', (r) => r.number], ['Issued', (r) => r.issuedDate], ['Kind', (r) => r.kind],
    ['Period', (r) => (r.period ? `${r.period.startDate} – ${r.period.endDate}` : '')],
    ['Total', (r) => money(r.total, r.currency), true],
    ['Download', (r) => el('span', {},
      el('a', { href: `/v1/invoices/${r.number}.pdf`, 'data-download': 'pdf' }, 'PDF'), ' · ',
      el('a', { href: `/v1/invoices/${r.number}.csv`, 'data-download': 'csv' }, 'CSV'), ' · ',
      el('a', { href: `/v1/invoices/${r.number}.json` }, 'JSON'), ' · ',
      // docs/evidence.md: the units behind each line, to check the amount against.
      el('a', { href: `/v1/invoices/${r.number}/evidence.csv`, 'data-download': 'evidence' }, 'Why this amount'))],
  ], 'No invoices yet: the first one is issued at the end of the first period.'))
}

function renderRejections(r) {
  fill('#rejection-list', table(r?.rejections ?? [], [
    ['Container', (x) => x.container], ['Reason', (x) => x.reason], ['Origin', (x) => x.origin || '(none)'],
    ['Count', (x) => x.count, true], ['Last seen', (x) => x.lastSeen.replace('T', ' ').slice(0, 16)],
  ], 'No refused beacons in the last 7 days.'))
}

/** Runs one part of the page; a failing part says so without blanking the others. */
async function part(target, fn) {
  try {
    await fn()
  } catch (e) {
    if (e.message !== 'signed out') fill(target, el('p', { class: 'error' }, `Could not load: ${e.message}`))
  }
}

async function main() {
  const form = $('#range')
  const show = () => part('#by-container', () => loadUsage(form.from.value, form.to.value))
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    show()
  })
  for (const b of form.querySelectorAll('[data-days]')) {
    b.addEventListener('click', () => {
      const to = form.to.value
      form.from.value = new Date(Date.parse(`${to}T00:00:00Z`) - (Number(b.dataset.days) - 1) * DAY).toISOString().slice(0, 10)
      show()
    })
  }
  // The server knows the account's time zone: its default range says which day is today there.
  await part('#usage-zone', async () => {
    const range = await get('/v1/usage')
    form.from.value = range.from
    form.to.value = range.to
    await loadUsage(range.from, range.to)
  })
  await Promise.all([
    part('#period-bounds', async () => renderPeriod(await get('/v1/period'))),
    part('#credit-log', async () => renderCreditLog(await get('/v1/credits/log'))),
    part('#invoice-list', async () => renderInvoices(await get('/v1/invoices'))),
    part('#rejection-list', async () => renderRejections(await get('/v1/rejections'))),
  ])
  document.body.dataset.ready = 'true'
}

let resizing
addEventListener('resize', () => {
  clearTimeout(resizing)
  resizing = setTimeout(() => {
    for (const [m, chart] of charts) {
      const node = document.querySelector(`[data-chart="${m}"]`)
      chart.setSize({ width: Math.max(280, node.clientWidth), height: 200 })
    }
  }, 150)
})

main()
