/** The portal page's usage section: this period's meters, counts per site and bot, and credits used by action. */
import { h } from './dom.js'
import { METER_WORDS, count, day, lastDay } from './format.js'
import { state, section } from './page.js'

// --- Usage ---

export function usageSection(): HTMLElement {
  const u = state.usage
  const s = state.subscription
  return section(
    'usage',
    'Usage this period',
    h('p', { class: 'muted' }, `${day(s.period.startDate)} – ${lastDay(s.period.endDate)}`),
    h(
      'div',
      { class: 'meters' },
      u.meters.map((x) => {
        const pct = x.included > 0 ? Math.min(100, Math.round((x.used / x.included) * 100)) : 0
        return h(
          'div',
          { class: 'meter' },
          h(
            'div',
            { class: 'meter-label' },
            h('span', {}, METER_WORDS[x.meter] ?? x.meter),
            h('span', { class: 'muted' }, x.included > 0 ? `${count(x.used)} of ${count(x.included)}` : count(x.used)),
          ),
          x.included > 0
            ? h(
                'div',
                {
                  class: `bar${x.used > x.included ? ' over' : ''}`,
                  role: 'progressbar',
                  'aria-label': `${METER_WORDS[x.meter] ?? x.meter} used`,
                  'aria-valuemin': 0,
                  'aria-valuemax': x.included,
                  'aria-valuenow': Math.min(x.used, x.included),
                },
                h('span', { style: null, 'data-pct': pct }),
              )
            : null,
        )
      }),
    ),
    u.containers.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            h('caption', {}, 'By site and bot'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Site'),
                h('th', { scope: 'col', class: 'n' }, 'Impressions'),
                h('th', { scope: 'col', class: 'n' }, 'Engagements'),
                h('th', { scope: 'col', class: 'n' }, 'Chat sessions'),
              ),
            ),
            h(
              'tbody',
              {},
              u.containers.map((c) =>
                h(
                  'tr',
                  {},
                  h('td', {}, c.name),
                  h('td', { class: 'n' }, count(c.impressions)),
                  h('td', { class: 'n' }, count(c.engagements)),
                  h('td', { class: 'n' }, count(c.chatSessions)),
                ),
              ),
            ),
          ),
        )
      : null,
    h('h3', {}, 'Credits used by action'),
    u.creditsByAction.length
      ? h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col', class: 'n' }, 'Credits'))),
          h(
            'tbody',
            {},
            u.creditsByAction.map((a) => h('tr', {}, h('td', {}, a.action), h('td', { class: 'n' }, count(a.credits)))),
          ),
        )
      : h('p', { class: 'muted' }, 'No credits used this period.'),
  )
}
