/** The portal page's invoice information section: the details printed on invoices, and editing them. */
import { api, newKey } from './api.js'
import { field, h } from './dom.js'
import { state, reload, section } from './page.js'

// --- Invoice information ---

export function detailsSection(): HTMLElement {
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
