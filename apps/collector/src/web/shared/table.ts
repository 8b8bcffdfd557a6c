/** Tables of API rows: a column says its header, its value and whether it is a number. */
import { el, fill } from './dom.js'
import { fmt } from './format.js'

/** `[header, (row) => value, numeric?]`. */
export type Column<R> = readonly [header: Node | string, value: (row: R) => unknown, numeric?: boolean]

/** Rows a paged table shows at once. */
export const PAGE_SIZE = 10

/** A table from column definitions, in a box that scrolls on its own when narrow. */
export function table<R>(rows: readonly R[], columns: readonly Column<R>[], empty = 'Nothing yet.'): HTMLElement {
  if (!rows.length) return el('p', { class: 'empty' }, empty)
  const head = el('tr', {}, ...columns.map(([h, , n]) => el('th', { class: n ? 'n' : undefined, scope: 'col' }, h)))
  const body = rows.map((r) =>
    el(
      'tr',
      {},
      ...columns.map(([, f, n]) => {
        const v = f(r)
        return el('td', { class: n ? 'n' : undefined }, v instanceof Node ? v : n ? fmt(v) : ((v ?? '') as string))
      }),
    ),
  )
  // A table wider than the screen scrolls in its box, which the keyboard reaches too.
  return el('div', { class: 'table-wrap', tabindex: '0' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...body)))
}

/** A table shown a page at a time, with Newer/Older buttons (the rows come newest first). */
export function pagedTable<R>(target: string | Element, rows: readonly R[], columns: readonly Column<R>[], empty: string, label: string): void {
  let page = 0
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE))
  const draw = () => {
    const shown = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)
    const nodes: Node[] = [table(shown, columns, empty)]
    if (pages > 1) {
      const newer = el('button', { type: 'button', class: 'link', 'data-page': 'newer', 'aria-label': `Newer ${label}` }, '← Newer')
      const older = el('button', { type: 'button', class: 'link', 'data-page': 'older', 'aria-label': `Older ${label}` }, 'Older →')
      newer.disabled = page === 0
      older.disabled = page === pages - 1
      newer.addEventListener('click', () => {
        page--
        draw()
      })
      older.addEventListener('click', () => {
        page++
        draw()
      })
      nodes.push(
        el(
          'nav',
          { class: 'pager', 'aria-label': `${label} pages` },
          newer,
          el('span', { class: 'muted' }, ` ${page * PAGE_SIZE + 1}–${page * PAGE_SIZE + shown.length} of ${rows.length} `),
          older,
        ),
      )
    }
    fill(target, ...nodes)
  }
  draw()
}
