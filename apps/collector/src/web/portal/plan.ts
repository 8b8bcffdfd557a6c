/** The portal page's plan section: the subscription, the change dialog with its preview, cancel and resume. */
import { api, newKey, type PlanView, type Preview } from './api.js'
import { field, h, uid } from './dom.js'
import { openDialog, type Step } from './dialog.js'
import { CYCLE_WORDS, count, day, lastDay, money } from './format.js'
import { state, reload, m, planName, productName, manager, section } from './page.js'

// --- Plan ---

function planPrice(p: PlanView, seats: number, products: string[], cycle: string): string {
  const monthly = p.basePrice + seats * p.seatPrice + products.reduce((x, id) => x + (p.products.find((q) => q.id === id)?.price ?? 0), 0)
  const disc = p.cycleDiscountPercent[cycle] ?? 0
  return `${money(monthly, p.currency)} a month${disc ? `, ${disc}% off paid ${CYCLE_WORDS[cycle]?.adverb}` : ''}`
}

export function planSection(): HTMLElement {
  const s = state.subscription
  const status =
    s.status === 'cancelling'
      ? h('span', { class: 'badge warn' }, `Cancels ${s.endsOn ? day(s.endsOn) : ''}`)
      : s.status === 'ended'
        ? h('span', { class: 'badge' }, 'Ended')
        : h('span', { class: 'badge ok' }, 'Active')
  const p = state.policy
  const canChange = manager() && p !== null && (p.plans.length > 0 || p.cycles.length > 0 || p.seats !== undefined || p.products) && s.status === 'active'
  return section(
    'plan',
    'Current plan',
    h(
      'div',
      { class: 'plan-head' },
      h(
        'div',
        {},
        h('p', { class: 'plan-name' }, s.plan.name, ' ', status),
        s.recurring
          ? h('p', { class: 'price' }, m(s.recurring.total), h('span', { class: 'muted' }, ` per ${CYCLE_WORDS[s.recurring.cycle]?.noun ?? s.cycle}`))
          : null,
      ),
      h(
        'div',
        { class: 'plan-actions' },
        canChange ? h('button', { type: 'button', onclick: changePlan }, 'Change plan') : null,
        manager() && p?.cancel && s.status === 'active' ? h('button', { type: 'button', class: 'secondary', onclick: cancel }, 'Cancel subscription') : null,
        manager() && p?.cancel && s.status === 'cancelling' ? h('button', { type: 'button', onclick: resume }, 'Renew subscription') : null,
      ),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Billing cycle'),
      h('dd', {}, CYCLE_WORDS[s.cycle]?.adverb ?? s.cycle),
      h('dt', {}, 'Current period'),
      h('dd', {}, `${day(s.period.startDate)} – ${lastDay(s.period.endDate)}`),
      h('dt', {}, s.status === 'cancelling' ? 'Ends on' : 'Renews on'),
      h('dd', {}, day(s.status === 'cancelling' ? (s.endsOn ?? s.period.endDate) : (s.renewsOn ?? s.period.endDate))),
      h('dt', {}, 'Seats'),
      h('dd', {}, count(s.seats)),
      h('dt', {}, 'Products'),
      h('dd', {}, s.products.length ? s.products.map(productName).join(', ') : 'None'),
      s.next && (s.next.plan !== s.plan.id || s.next.seats !== s.seats || s.next.products.join() !== s.products.join())
        ? [
            h('dt', {}, `From ${day(s.period.endDate)}`),
            h('dd', {}, `${planName(s.next.plan)}, ${s.next.seats} seats${s.next.products.length ? `, ${s.next.products.map(productName).join(', ')}` : ''}`),
          ]
        : null,
    ),
  )
}

/** What a preview says will happen, in words: now, and from when. */
function previewText(p: Preview): HTMLElement {
  const items: HTMLElement[] = []
  if (p.chargeNow)
    items.push(
      h('li', {}, h('strong', {}, `You will be charged ${money(p.chargeNow.total, p.currency)} now`), ' for the rest of this period (prorated by days).'),
    )
  else if (p.effective === 'now') items.push(h('li', {}, 'It takes effect today at no charge now.'))
  else
    items.push(
      h(
        'li',
        {},
        h('strong', {}, `Nothing is charged now.`),
        ` The change takes effect on ${day(p.periodEnd)}, at the end of the current period; until then nothing changes.`,
      ),
    )
  items.push(
    h(
      'li',
      {},
      `From ${day(p.periodEnd)}: ${money(p.next.total, p.currency)} per ${CYCLE_WORDS[p.next.cycle]?.noun ?? p.next.cycle}`,
      p.next.total !== p.current.total
        ? h('span', { class: 'muted' }, ` (now ${money(p.current.total, p.currency)} per ${CYCLE_WORDS[p.current.cycle]?.noun ?? p.current.cycle})`)
        : null,
      '.',
    ),
  )
  const t = p.fromPeriodEnd
  items.push(
    h(
      'li',
      {},
      `Your plan from then: ${planName(t.plan)}, ${t.seats} seat${t.seats === 1 ? '' : 's'}${t.products.length ? `, ${t.products.map(productName).join(', ')}` : ''}.`,
    ),
  )
  return h('div', { class: 'preview' }, h('ul', {}, items))
}

function changePlan() {
  const s = state.subscription
  const p = state.policy!
  const plans = state.plans.filter((x) => x.id === s.plan.id || p.plans.includes(x.id))
  const cycles = [...new Set([s.cycle, ...p.cycles])]
  const planSel = h(
    'select',
    { name: 'plan' },
    plans.map((x) => h('option', { value: x.id, selected: x.id === s.plan.id }, `${x.name} — ${planPrice(x, s.seats, [], s.cycle)}`)),
  )
  const cycleSel = h(
    'select',
    { name: 'cycle', disabled: cycles.length < 2 },
    cycles.map((c) => h('option', { value: c, selected: c === s.cycle }, CYCLE_WORDS[c]?.adverb ?? c)),
  )
  const seats = h('input', {
    name: 'seats',
    type: 'number',
    inputmode: 'numeric',
    value: s.seats,
    min: p.seats?.min ?? s.seats,
    max: p.seats?.max ?? s.seats,
    required: true,
    disabled: !p.seats,
  })
  const productsBox = h('fieldset', { class: 'checks' }, h('legend', {}, 'Products'))
  const fillProducts = () => {
    const plan = plans.find((x) => x.id === planSel.value) ?? s.plan
    productsBox.replaceChildren(
      h('legend', {}, 'Products'),
      ...(plan.products.length
        ? plan.products.map((q) => {
            const id = uid('prod')
            return h(
              'div',
              { class: 'check' },
              h('input', { type: 'checkbox', id, name: 'product', value: q.id, checked: s.products.includes(q.id), disabled: !p.products }),
              h('label', { for: id }, `${q.name} — ${money(q.price, plan.currency)} a month`),
            )
          })
        : [h('p', { class: 'muted' }, 'This plan offers no products.')]),
    )
  }
  planSel.addEventListener('change', fillProducts)
  fillProducts()
  const form = h(
    'div',
    {},
    field('Plan', planSel),
    field('Billing cycle', cycleSel, 'A new cycle starts at the next renewal; longer cycles are paid upfront with their discount.'),
    field('Seats', seats, p.seats ? `From ${p.seats.min} to ${p.seats.max}.` : 'Seats cannot be changed here.'),
    productsBox,
    h('p', { class: 'hint' }, 'Upgrades take effect at once and are charged for the rest of the period; downgrades take effect at the end of the period.'),
  )
  const ask = () => ({
    plan: planSel.value,
    cycle: cycleSel.value,
    seats: Number(seats.value),
    products: [...productsBox.querySelectorAll<HTMLInputElement>('input[name=product]:checked')].map((x) => x.value),
  })
  const key = newKey()
  const first: Step = {
    body: form,
    action: 'Review change',
    run: async () => {
      const a = ask()
      const preview = await api.preview(a)
      return {
        body: previewText(preview),
        action: preview.chargeNow ? `Confirm and pay ${money(preview.chargeNow.total, preview.currency)}` : 'Confirm change',
        run: async () => {
          const r = await api.change(a, key)
          await reload(
            r.status === 'applied' ? `Plan changed.${r.invoice ? ` Invoice ${r.invoice} was issued.` : ''}` : `Change scheduled for ${day(preview.periodEnd)}.`,
          )
          return ''
        },
      }
    },
  }
  openDialog('Change plan', first, () => undefined)
}

function cancel() {
  const s = state.subscription
  const key = newKey()
  openDialog(
    'Cancel subscription',
    {
      body: h(
        'div',
        {},
        h('p', {}, h('strong', {}, `Your subscription will end on ${day(s.period.endDate)}`), ', at the end of the period you have paid for.'),
        h('p', {}, 'Until then everything keeps working. After it, tracking stops and you will not be billed again, except for the usage of this last period.'),
        h('p', {}, 'You can renew any time before it ends.'),
      ),
      action: 'Cancel subscription',
      danger: true,
      run: async () => {
        const r = await api.cancel(key)
        await reload(`Cancelled: your subscription ends on ${day(r.endsOn)}.`)
        return ''
      },
    },
    () => undefined,
  )
}

function resume() {
  const key = newKey()
  openDialog(
    'Renew subscription',
    {
      body: h('p', {}, `Your subscription will renew on ${day(state.subscription.period.endDate)} as before, and be billed as usual.`),
      action: 'Renew subscription',
      run: async () => {
        await api.resume(key)
        await reload('Your subscription renews as before.')
        return ''
      },
    },
    () => undefined,
  )
}
