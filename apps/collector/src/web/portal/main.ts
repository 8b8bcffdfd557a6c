/**
 * The billing portal page (docs/portal.md): one section per concern, built from `GET
 * /v1/portal/state`, each change behind a dialog that previews it first. Bundled by rollup
 * (apps/collector/rollup.config.mjs) into `dist/web/portal.js`.
 */
import { api, newKey, type LogEntry, type State } from './api.js'
import { field, h } from './dom.js'
import { openDialog } from './dialog.js'
import { METER_WORDS, count, day, lastDay, money } from './format.js'
import { root, live, state, drawWith, reload, m, manager, walletName, section } from './page.js'
import { planSection } from './plan.js'

function render() {
  const s = state
  const back = s.returnUrl
  root.replaceChildren(
    h(
      'header',
      { class: 'top' },
      h('div', {}, h('p', { class: 'eyebrow' }, 'Billing'), h('h1', {}, s.account.name)),
      h(
        'div',
        { class: 'top-actions' },
        back ? h('a', { href: back, class: 'button secondary' }, `Return to ${new URL(back).host}`) : null,
        h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out'),
      ),
    ),
    h('p', { id: 'toast', class: 'toast', hidden: true }),
    live,
    h(
      'main',
      {},
      noticesView(),
      s.role === 'member'
        ? h('p', { class: 'role' }, `Signed in as team member ${s.member}: you see your own credits. The account's manager manages the subscription.`)
        : null,
      planSection(),
      usageSection(),
      creditsSection(),
      manager() ? emailsSection() : null,
      manager() ? detailsSection() : null,
      manager() ? invoicesSection() : null,
      h(
        'p',
        { class: 'fine' },
        `Times are shown for ${s.account.timezone}. This session ends at ${new Date(s.expiresAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}.`,
      ),
    ),
  )
}

async function signOut() {
  await api.signOut().catch(() => undefined)
  root.replaceChildren(h('main', { class: 'message' }, h('h1', {}, 'Signed out'), h('p', {}, 'You can close this page.')))
}

// --- Notices ---

function noticesView(): HTMLElement | null {
  if (state.notices.length === 0) return null
  return h(
    'div',
    { class: 'notices', role: 'region', 'aria-label': 'Notices' },
    state.notices.map((n) =>
      h(
        'div',
        { class: `notice ${n.severity}`, role: n.severity === 'critical' ? 'alert' : null },
        h(
          'strong',
          {},
          {
            payment_failed: 'Payment failed',
            change_scheduled: 'Change scheduled',
            cancellation_scheduled: 'Cancellation scheduled',
            term_ending: 'Term ending',
            credits_low: 'Credits low',
            email_quota_reached: 'Email quota reached',
          }[n.kind] ?? 'Notice',
        ),
        ' ',
        n.message.replace(/\d{4}-\d{2}-\d{2}/g, (d) => day(d)),
      ),
    ),
  )
}

// --- Usage ---

function usageSection(): HTMLElement {
  const u = state.usage
  const s = state.subscription
  return section(
    'usage',
    'Usage this period',
    h('p', { class: 'muted' }, `${day(s.period.startDate)} – ${lastDay(s.period.endDate)}`),
    h(
      'div',
      { class: 'meters' },
      u.meters.map((x) => {
        const pct = x.included > 0 ? Math.min(100, Math.round((x.used / x.included) * 100)) : 0
        return h(
          'div',
          { class: 'meter' },
          h(
            'div',
            { class: 'meter-label' },
            h('span', {}, METER_WORDS[x.meter] ?? x.meter),
            h('span', { class: 'muted' }, x.included > 0 ? `${count(x.used)} of ${count(x.included)}` : count(x.used)),
          ),
          x.included > 0
            ? h(
                'div',
                {
                  class: `bar${x.used > x.included ? ' over' : ''}`,
                  role: 'progressbar',
                  'aria-label': `${METER_WORDS[x.meter] ?? x.meter} used`,
                  'aria-valuemin': 0,
                  'aria-valuemax': x.included,
                  'aria-valuenow': Math.min(x.used, x.included),
                },
                h('span', { style: null, 'data-pct': pct }),
              )
            : null,
        )
      }),
    ),
    u.containers.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            h('caption', {}, 'By site and bot'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Site'),
                h('th', { scope: 'col', class: 'n' }, 'Impressions'),
                h('th', { scope: 'col', class: 'n' }, 'Engagements'),
                h('th', { scope: 'col', class: 'n' }, 'Chat sessions'),
              ),
            ),
            h(
              'tbody',
              {},
              u.containers.map((c) =>
                h(
                  'tr',
                  {},
                  h('td', {}, c.name),
                  h('td', { class: 'n' }, count(c.impressions)),
                  h('td', { class: 'n' }, count(c.engagements)),
                  h('td', { class: 'n' }, count(c.chatSessions)),
                ),
              ),
            ),
          ),
        )
      : null,
    h('h3', {}, 'Credits used by action'),
    u.creditsByAction.length
      ? h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col', class: 'n' }, 'Credits'))),
          h(
            'tbody',
            {},
            u.creditsByAction.map((a) => h('tr', {}, h('td', {}, a.action), h('td', { class: 'n' }, count(a.credits)))),
          ),
        )
      : h('p', { class: 'muted' }, 'No credits used this period.'),
  )
}

// --- Credits ---

function creditsSection(): HTMLElement {
  const p = state.policy
  const log = h('div', { class: 'log' })
  const type = h(
    'select',
    { name: 'type' },
    [
      ['', 'All entries'],
      ['grant', 'Monthly grants'],
      ['purchase', 'Purchases'],
      ['spend', 'Spent'],
      ['transfer_out', 'Sent to members'],
      ['transfer_in', 'Received'],
      ['expiry', 'Expired'],
    ].map(([v, t]) => h('option', { value: v }, t)),
  )
  const wallet = h(
    'select',
    { name: 'wallet', disabled: !manager() },
    state.wallets.map((w) => h('option', { value: w.wallet }, walletName(w.wallet))),
  )
  const from = h('input', { type: 'date', name: 'from' })
  const to = h('input', { type: 'date', name: 'to' })
  const loadLog = async () => {
    const q: Record<string, string> = { wallet: wallet.value }
    if (type.value) q.type = type.value
    if (from.value) q.from = from.value
    if (to.value) q.to = to.value
    const { entries } = await api.log(q)
    log.replaceChildren(entries.length ? logTable(entries) : h('p', { class: 'muted' }, 'No entries match these filters.'))
  }
  const filters = h(
    'form',
    {
      class: 'filters',
      onsubmit: (e: Event) => {
        e.preventDefault()
        void loadLog()
      },
    },
    field('Wallet', wallet),
    field('Type', type),
    field('From', from),
    field('To', to),
    h('button', { type: 'submit', class: 'secondary' }, 'Show'),
  )
  void loadLog()
  return section(
    'credits',
    'Credits',
    h(
      'div',
      { class: 'wallets' },
      state.wallets.map((w) =>
        h('div', { class: 'wallet' }, h('span', { class: 'muted' }, walletName(w.wallet)), h('span', { class: 'value' }, count(w.balance))),
      ),
    ),
    h(
      'div',
      { class: 'row-actions' },
      manager() && p?.creditPacks && state.packs.credits.length ? h('button', { type: 'button', onclick: buyCredits }, 'Buy credits') : null,
      manager() && p?.transfers && state.members.length
        ? h('button', { type: 'button', class: 'secondary', onclick: sendCredits }, 'Send credits to a team member')
        : null,
    ),
    h('p', { class: 'hint' }, 'Monthly free credits expire at the end of each month; purchased credits never expire.'),
    h('h3', {}, 'Credit log'),
    filters,
    log,
  )
}

function logTable(entries: LogEntry[]): HTMLElement {
  const what = (e: LogEntry) =>
    ({
      grant: 'Monthly free credits',
      purchase: `Bought pack ${e.pack ?? ''}`,
      spend: `Spent on ${e.action ?? ''}`,
      transfer_out: `Sent to ${(e.to ?? '').replace(/^member:/, '')}`,
      transfer_in: 'Received from the account',
      expiry: 'Expired',
    })[e.type] ?? e.type
  const sign = (e: LogEntry) => (e.type === 'spend' || e.type === 'transfer_out' || e.type === 'expiry' ? -e.credits : e.credits)
  return h(
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
          h('th', { scope: 'col' }, 'Wallet'),
          h('th', { scope: 'col' }, 'What'),
          h('th', { scope: 'col', class: 'n' }, 'Credits'),
        ),
      ),
      h(
        'tbody',
        {},
        entries.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, day(e.day)),
            h('td', {}, walletName(e.wallet)),
            h('td', {}, what(e)),
            h('td', { class: 'n' }, `${sign(e) > 0 ? '+' : ''}${count(sign(e))}`),
          ),
        ),
      ),
    ),
  )
}

function buyCredits() {
  const packs = state.packs.credits
  const pick = h(
    'select',
    { name: 'pack' },
    packs.map((p) => h('option', { value: p.id }, `${count(p.credits)} credits — ${m(p.price)}`)),
  )
  const key = newKey()
  openDialog(
    'Buy credits',
    {
      body: h('div', {}, field('Credit pack', pick), h('p', {}, 'The pack is invoiced at once, on its own invoice. Purchased credits never expire.')),
      action: 'Buy pack',
      run: async () => {
        const pack = packs.find((p) => p.id === pick.value)!
        await api.buyCredits(pack.id, key)
        await reload(`${count(pack.credits)} credits added; ${m(pack.price)} invoiced.`)
        return ''
      },
    },
    () => undefined,
  )
}

function sendCredits() {
  const account = state.wallets.find((w) => w.wallet === 'account')?.balance ?? 0
  const to = h(
    'select',
    { name: 'to' },
    state.members.map((x) => h('option', { value: x }, x)),
  )
  const amount = h('input', {
    type: 'number',
    name: 'credits',
    inputmode: 'numeric',
    min: 1,
    max: Math.max(1, account),
    required: true,
    value: Math.min(100, Math.max(1, account)),
  })
  const key = newKey()
  openDialog(
    'Send credits',
    {
      body: h('div', {}, field('Team member', to), field('Credits', amount, `The account has ${count(account)} credits.`)),
      action: 'Review',
      run: async () => ({
        body: h(
          'div',
          {},
          h('p', {}, h('strong', {}, `Send ${count(Number(amount.value))} credits to ${to.value}?`)),
          h('p', { class: 'warning' }, 'This cannot be undone: credits sent to a member cannot be sent back to the account and have no cash value.'),
        ),
        action: 'Send credits',
        danger: true,
        run: async () => {
          const r = await api.transfer(to.value, Number(amount.value), key)
          if (r.status === 'rejected') throw new Error('The account does not have that many credits.')
          await reload(`${count(Number(amount.value))} credits sent to ${to.value}.`)
          return ''
        },
      }),
    },
    () => undefined,
  )
}

// --- Emails ---

function emailsSection(): HTMLElement {
  const e = state.usage.emails
  const allowed = state.policy?.emailPacks && state.packs.emails.length > 0
  return section(
    'emails',
    'Emails this month',
    h('p', {}, `${count(e.sent)} sent of ${count(e.quota + e.granted)}`, h('span', { class: 'muted' }, ` (${count(e.left)} left)`)),
    h(
      'div',
      {
        class: `bar${e.left === 0 ? ' over' : ''}`,
        role: 'progressbar',
        'aria-label': 'Emails sent this month',
        'aria-valuemin': 0,
        'aria-valuemax': e.quota + e.granted,
        'aria-valuenow': Math.min(e.sent, e.quota + e.granted),
      },
      h('span', { 'data-pct': e.quota + e.granted > 0 ? Math.min(100, Math.round((e.sent / (e.quota + e.granted)) * 100)) : 0 }),
    ),
    allowed ? h('div', { class: 'row-actions' }, h('button', { type: 'button', onclick: buyEmails }, 'Buy an email pack')) : null,
  )
}

function buyEmails() {
  const packs = state.packs.emails
  const pick = h(
    'select',
    { name: 'pack' },
    packs.map((p) => h('option', { value: p.id }, `${count(p.emails)} emails — ${m(p.price)}`)),
  )
  const key = newKey()
  openDialog(
    'Buy an email pack',
    {
      body: h('div', {}, field('Email pack', pick), h('p', {}, "The emails are added to this month's quota at once; the pack is invoiced on its own invoice.")),
      action: 'Buy pack',
      run: async () => {
        const pack = packs.find((p) => p.id === pick.value)!
        await api.buyEmails(pack.id, key)
        await reload(`${count(pack.emails)} emails added to this month; ${m(pack.price)} invoiced.`)
        return ''
      },
    },
    () => undefined,
  )
}

// --- Invoice information ---

function detailsSection(): HTMLElement {
  const d = state.billingDetails?.details
  const editable = state.policy?.billingDetails ?? false
  const company = h('input', { name: 'company', autocomplete: 'organization', required: true, maxlength: 200, value: d?.company ?? '', readonly: !editable })
  const address = h('textarea', { name: 'address', autocomplete: 'street-address', rows: 3, maxlength: 500, readonly: !editable }, d?.address ?? '')
  const taxId = h('input', { name: 'taxId', maxlength: 64, value: d?.taxId ?? '', readonly: !editable })
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true, maxlength: 254, value: d?.email ?? '', readonly: !editable })
  const error = h('p', { class: 'error', role: 'alert' })
  let key = newKey()
  const save = h('button', { type: 'submit' }, 'Save')
  const form = h(
    'form',
    {
      class: 'details',
      onsubmit: async (e: Event) => {
        e.preventDefault()
        if (save.disabled) return
        save.disabled = true
        error.textContent = ''
        try {
          await api.billingDetails({ company: company.value.trim(), address: address.value.trim(), taxId: taxId.value.trim(), email: email.value.trim() }, key)
          key = newKey()
          await reload('Invoice information saved. Invoices issued from now on show it; earlier invoices keep theirs.')
        } catch (err) {
          error.textContent = (err as Error).message
        } finally {
          save.disabled = false
        }
      },
    },
    field('Company name', company),
    field('Address', address),
    field('Tax id (VAT)', taxId),
    field('Billing e-mail', email),
    error,
    editable ? save : null,
  )
  return section(
    'details',
    'Invoice information',
    h(
      'p',
      { class: 'hint' },
      state.billingDetails
        ? `Printed on every invoice issued since ${new Date(state.billingDetails.since).toLocaleString()}. A change applies to invoices issued after it.`
        : 'Printed on every invoice issued after you save it.',
    ),
    form,
  )
}

// --- Invoices ---

function invoicesSection(): HTMLElement {
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

// Bars take their width from data-pct (the CSP allows no inline style attributes).
new MutationObserver(() => {
  for (const el of root.querySelectorAll<HTMLElement>('[data-pct]')) el.style.width = `${el.dataset.pct}%`
}).observe(root, { childList: true, subtree: true })

drawWith(render)
void reload()
