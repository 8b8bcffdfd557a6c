/** The notices banner (`GET /v1/notices`): a failed payment first, until it is paid (docs/portal.md). */
import { $, el, fill } from '../shared/dom.js'
import type { NoticesAnswer } from './answers.js'

export function renderNotices(r: NoticesAnswer | null): void {
  const box = $('#notices')
  const notices = r?.notices ?? []
  box.hidden = notices.length === 0
  // A critical notice is announced at once (role=alert); the others wait to be read.
  fill(box, ...notices.map((n) => el('p', { class: `notice ${n.severity}`, role: n.severity === 'critical' ? 'alert' : undefined }, n.message)))
}
