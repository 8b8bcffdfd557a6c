/** One part of the page loaded on its own: a failing part says so without blanking the others. */
import { el, fill } from '../shared/dom.js'
import { failure } from '../shared/api.js'

export async function part(target: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (e) {
    const message = failure(e)
    if (message !== null) fill(target, el('p', { class: 'error' }, `Could not load: ${message}`))
  }
}
