/**
 * IntersectionObserver stand-in: happy-dom computes no layout, so tests say what is visible.
 */
type Callback = (entries: Partial<IntersectionObserverEntry>[], observer: unknown) => void

export interface FakeObserver {
  options: IntersectionObserverInit | undefined
  observed: Set<Element>
  /** Reports `el` at `ratio` of its area in the viewport, as the browser would on a crossing. */
  show(el: Element, ratio: number): void
}

export function installIntersectionObserver(): FakeObserver[] {
  const all: FakeObserver[] = []
  function IntersectionObserver(this: FakeObserver & Record<string, unknown>, cb: Callback, options?: IntersectionObserverInit) {
    const observed = new Set<Element>()
    const self: FakeObserver & Record<string, unknown> = Object.assign(this, {
      options,
      observed,
      observe: (el: Element) => observed.add(el),
      unobserve: (el: Element) => observed.delete(el),
      disconnect: () => observed.clear(),
      takeRecords: () => [],
      show: (el: Element, ratio: number) => {
        if (observed.has(el)) cb([{ target: el, intersectionRatio: ratio, isIntersecting: ratio > 0 }], self)
      },
    })
    all.push(self)
  }
  ;(globalThis as Record<string, unknown>).IntersectionObserver = IntersectionObserver
  return all
}
