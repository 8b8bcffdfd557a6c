/**
 * Elements from text: every string goes in with `textContent`, never as HTML, because names and
 * origins come from configuration and from visitors.
 */

export type Child = Node | string | number | null | undefined
export type Attrs = Record<string, string | undefined | null>

/** The element of a selector the page always has (a missing one is a bug in the page). */
export function $<E extends Element = HTMLElement>(sel: string): E {
  const found = document.querySelector<E>(sel)
  if (!found) throw new Error(`the page has no ${sel}`)
  return found
}

/** An element with text or children; attributes as an object (`class` sets the class name). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue
    if (k === 'class') e.className = v
    else e.setAttribute(k, v)
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)))
  return e
}

/** Replaces the children of a node (or of the node of a selector). */
export function fill(target: string | Element, ...nodes: (Node | string)[]): void {
  const t = typeof target === 'string' ? $(target) : target
  t.replaceChildren(...nodes)
}
