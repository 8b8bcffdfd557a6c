/** The portal page's credits section: the wallets, the credit log with its filters, buying credits and sending them to a team member. */
import { api, newKey, type LogEntry } from './api.js'
import { field, h } from './dom.js'
import { openDialog } from './dialog.js'
import { count, day } from './format.js'
import { state, reload, m, manager, walletName, section } from './page.js'

// --- Credits ---

export function creditsSection(): HTMLElement {
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
