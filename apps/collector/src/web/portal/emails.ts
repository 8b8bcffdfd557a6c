/** The portal page's emails section: this month's quota and buying an email pack. */
import { api, newKey } from './api.js'
import { field, h } from './dom.js'
import { openDialog } from './dialog.js'
import { count } from './format.js'
import { state, reload, m, section } from './page.js'

// --- Emails ---

export function emailsSection(): HTMLElement {
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
