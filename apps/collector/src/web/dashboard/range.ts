/** The usage range in the form and in the address, so that a reload, a bookmark or Back shows it again. */
import { addDays, parseIsoDay } from '@tally/protocol/contract'
import { $ } from '../shared/dom.js'
import { account } from '../shared/format.js'
import { loadUsage } from './usage.js'
import { part } from './part.js'

interface RangeForm extends HTMLFormElement {
  from: HTMLInputElement
  to: HTMLInputElement
}
export const rangeForm = (): RangeForm => $<RangeForm>('#range')

/** The range the address names, if both bounds are days. */
export function rangeFromUrl(): { from: string; to: string } | null {
  const q = new URLSearchParams(location.search)
  const from = q.get('from')
  const to = q.get('to')
  return from && to && parseIsoDay(from) !== undefined && parseIsoDay(to) !== undefined ? { from, to } : null
}

/** Shows a range, and keeps it in the address (`push` a history entry, `replace` the current one, or `none`). */
export function showRange(from: string, to: string, how: 'push' | 'replace' | 'none' = 'push'): Promise<void> {
  const form = rangeForm()
  form.from.value = from
  form.to.value = to
  const url = `${location.pathname}?from=${from}&to=${to}`
  if (how === 'push' && `${location.pathname}${location.search}` !== url) history.pushState({ from, to }, '', url)
  if (how === 'replace') history.replaceState({ from, to }, '', url)
  return part('#usage-error', () => loadUsage(from, to))
}

/** The form's submit, its presets (the last N days, today included, in the account's zone) and Back/Forward. */
export function wireRange(): void {
  const form = rangeForm()
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    void showRange(form.from.value, form.to.value)
  })
  for (const b of form.querySelectorAll<HTMLButtonElement>('[data-days]')) {
    // Presets count back from today in the account's zone, whatever the form holds.
    b.addEventListener('click', () => void showRange(addDays(account.today, -(Number(b.dataset.days) - 1)), account.today))
  }
  addEventListener('popstate', () => {
    const r = rangeFromUrl()
    if (r) void showRange(r.from, r.to, 'none')
  })
}
