/**
 * The billing portal page (docs/portal.md): one section per concern, built from `GET
 * /v1/portal/state`, each change behind a dialog that previews it first. Bundled by rollup
 * (apps/collector/rollup.config.mjs) into `dist/web/portal.js`.
 */
import { api } from './api.js'
import { h } from './dom.js'
import { day } from './format.js'
import { root, live, state, drawWith, reload, manager } from './page.js'
import { planSection } from './plan.js'
import { usageSection } from './usage.js'
import { creditsSection } from './credits.js'
import { emailsSection } from './emails.js'
import { detailsSection } from './details.js'
import { invoicesSection } from './invoices.js'

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

// Bars take their width from data-pct (the CSP allows no inline style attributes).
new MutationObserver(() => {
  for (const el of root.querySelectorAll<HTMLElement>('[data-pct]')) el.style.width = `${el.dataset.pct}%`
}).observe(root, { childList: true, subtree: true })

drawWith(render)
void reload()
