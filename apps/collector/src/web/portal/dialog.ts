/**
 * Confirmations in a modal `<dialog>`: the browser keeps focus inside it and closes it on Escape;
 * focus goes back to the button that opened it. Each step says what will happen and when.
 */
import { h } from './dom.js'
import { ApiError } from './api.js'

export interface Step {
  /** What the dialog shows for this step. */
  body: HTMLElement
  /** The button that takes the step (it says what it does: "Confirm change", "Buy pack"). */
  action: string
  danger?: boolean
  /** Runs the step: another step to show, or a message for the page when done. */
  run: () => Promise<Step | string>
}

export function openDialog(title: string, first: Step, onDone: (message: string) => void): void {
  const opener = document.activeElement as HTMLElement | null
  const heading = h('h2', { id: 'dialog-title' }, title)
  const content = h('div', { class: 'dialog-body' })
  const error = h('p', { class: 'error', role: 'alert' })
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel')
  const go = h('button', { type: 'submit' })
  const form = h('form', { method: 'dialog' }, heading, content, error, h('div', { class: 'actions' }, cancel, go))
  const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' }, form)
  let step = first
  const show = (s: Step) => {
    step = s
    content.replaceChildren(s.body)
    go.textContent = s.action
    go.className = s.danger ? 'danger' : ''
    error.textContent = ''
    // The first field, else the action: keyboard users start where the step asks something.
    const first = s.body.querySelector<HTMLElement>('input, select, textarea')
    ;(first ?? go).focus()
  }
  const close = () => {
    dialog.close()
    dialog.remove()
    opener?.focus()
  }
  cancel.addEventListener('click', close)
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault()
    close()
  })
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    if (go.disabled) return
    if (!form.reportValidity()) return
    go.disabled = true
    go.setAttribute('aria-busy', 'true')
    try {
      const next = await step.run()
      if (typeof next === 'string') {
        close()
        onDone(next)
      } else show(next)
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : 'Something went wrong. Nothing was changed; try again.'
    } finally {
      go.disabled = false
      go.removeAttribute('aria-busy')
    }
  })
  document.body.append(dialog)
  dialog.showModal()
  show(first)
}
