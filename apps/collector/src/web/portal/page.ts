/** The portal page's state and what every section shares: the state as last read, redrawing, announcing, names and money. */
import { api, type State } from './api.js'
import { h, uid } from './dom.js'
import { money } from './format.js'

export const root = document.getElementById('portal') as HTMLElement
export const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' })

export let state: State

/** Announces what was done and shows it at the top of the page. */
export function announce(message: string) {
  live.textContent = message
  const toast = document.getElementById('toast')
  if (toast) {
    toast.textContent = message
    toast.hidden = false
  }
}

let render: () => void = () => {}
/** What `reload` draws the page with (./main.ts sets it once). */
export function drawWith(draw: () => void) {
  render = draw
}

/** Reads the state again and redraws the page; `message` is announced once it is drawn. */
export async function reload(message?: string) {
  try {
    state = await api.state()
  } catch {
    root.replaceChildren(
      h(
        'main',
        { class: 'message' },
        h('h1', {}, 'Your billing session has ended'),
        h('p', {}, 'For your security, billing sessions last about an hour. Open the billing portal again from the app.'),
      ),
    )
    return
  }
  render()
  if (message) announce(message)
}

export const cur = () => state.subscription.plan.currency
export const m = (minor: number) => money(minor, cur())
export const planName = (id: string) => state.plans.find((p) => p.id === id)?.name ?? (id === state.subscription.plan.id ? state.subscription.plan.name : id)
export const productName = (id: string) => state.subscription.plan.products.find((p) => p.id === id)?.name ?? id
export const manager = () => state.role === 'manager'
export const walletName = (w: string) => (w === 'account' ? 'Account' : w.replace(/^member:/, ''))

export function section(id: string, title: string, ...children: (Node | null | false)[]): HTMLElement {
  const hid = uid('h')
  return h('section', { id, 'aria-labelledby': hid }, h('h2', { id: hid }, title), ...children)
}
