/**
 * Element tracking for the script tag (docs/rules.md §3): `[data-tally-campaign]` counts an impression
 * once at least 50% of it has been in the viewport for 1 continuous second (the IAB viewability
 * rule; leaving earlier cancels the timer), `[data-tally-advisor]` counts an engagement on click
 * through one delegated listener. Elements added later (single-page apps) are picked up.
 */

const CAMPAIGN = 'data-tally-campaign'
const ADVISOR = 'data-tally-advisor'

/** How long an element must stay ≥50% visible to count. */
export const VIEW_MS = 1000

export function autotrack(impression: (id: string) => void, engagement: (id: string) => void): void {
  const timers = new Map<Element, ReturnType<typeof setTimeout>>()
  // Elements stay observed after they counted: the session's dedup keeps a second view silent,
  // and a view in a later session counts again, as it should.
  const io = new IntersectionObserver(
    (entries) => {
      // A ratio of 0.5 or more implies isIntersecting; below it (leaving) the timer is cancelled.
      for (const { target, intersectionRatio } of entries) {
        clearTimeout(timers.get(target))
        if (intersectionRatio >= 0.5) {
          timers.set(
            target,
            setTimeout(() => impression(target.getAttribute(CAMPAIGN)!), VIEW_MS),
          )
        }
      }
    },
    { threshold: 0.5 },
  )
  // observe() ignores elements it already watches, so rescanning the page is safe.
  // biome-ignore lint/suspicious/useIterableCallbackReturn: observe returns nothing; a block body costs bytes: t.js has a gzip budget (size.test.ts)
  const scan = () => document.querySelectorAll(`[${CAMPAIGN}]`).forEach((el) => io.observe(el))
  scan()
  new MutationObserver(scan).observe(document, { childList: true, subtree: true })
  // On the window, capture phase: a click reaches it before any listener on the document or an
  // element, so a page handler that stops propagation there (even a capturing one) cannot hide it.
  addEventListener(
    'click',
    (e) => {
      const el = (e.target as Element).closest?.(`[${ADVISOR}]`)
      if (el) engagement(el.getAttribute(ADVISOR)!)
    },
    true,
  )
}
