// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTracker } from './tracker.js'
import { memoryStore } from './store.js'
import { fakeCollector } from './testing/collector.js'
import { installIntersectionObserver, type FakeObserver } from './testing/intersection.js'

let observers: FakeObserver[]
const realIO = globalThis.IntersectionObserver

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  observers = installIntersectionObserver()
  document.body.innerHTML = `
    <div id="summer" data-tally-campaign="cmp_summer">Summer sale</div>
    <div id="winter" data-tally-campaign="cmp_winter">Winter sale</div>
    <button id="shoes" data-tally-advisor="adv_shoes"><span id="label">Find my shoe</span></button>`
})
afterEach(() => {
  globalThis.IntersectionObserver = realIO
  vi.useRealTimers()
})

function track() {
  const collector = fakeCollector()
  const tracker = createTracker({
    container: 'ctr_shop',
    endpoint: 'https://collector.test',
    autotrack: true,
    store: memoryStore(),
    fetch: collector.fetch,
    sendBeacon: collector.sendBeacon,
  })
  const io = observers.at(-1)!
  const el = (id: string) => document.getElementById(id)!
  const sent = async () => {
    await tracker.flush()
    return collector.events().map((e) => (e.type === 'impression' ? e.campaign : e.type === 'engagement' ? e.advisor : e.phase))
  }
  return { io, el, sent }
}

describe('autotrack', () => {
  it('watches every campaign element at the 50% threshold', () => {
    const { io, el } = track()
    expect(io.options).toEqual({ threshold: 0.5 })
    expect([...io.observed]).toEqual([el('summer'), el('winter')])
  })

  it('counts a campaign once at least half of it has been visible for one continuous second', async () => {
    const { io, el, sent } = track()
    io.show(el('summer'), 0.5)
    await vi.advanceTimersByTimeAsync(999)
    io.show(el('summer'), 0.8)
    await vi.advanceTimersByTimeAsync(999)
    expect(await sent()).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(await sent()).toEqual(['cmp_summer'])
  })

  it('counts nothing when the campaign leaves before one second, and restarts the second on return', async () => {
    const { io, el, sent } = track()
    io.show(el('summer'), 0.9)
    await vi.advanceTimersByTimeAsync(900)
    io.show(el('summer'), 0.49)
    await vi.advanceTimersByTimeAsync(5000)
    expect(await sent()).toEqual([])
    io.show(el('summer'), 0.6)
    await vi.advanceTimersByTimeAsync(600)
    io.show(el('summer'), 0)
    await vi.advanceTimersByTimeAsync(600)
    expect(await sent()).toEqual([])
    io.show(el('summer'), 1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(await sent()).toEqual(['cmp_summer'])
  })

  it('counts each campaign once per session however often it is viewed', async () => {
    const { io, el, sent } = track()
    for (let i = 0; i < 3; i++) {
      io.show(el('summer'), 1)
      io.show(el('winter'), 1)
      await vi.advanceTimersByTimeAsync(1000)
      io.show(el('summer'), 0)
      io.show(el('winter'), 0)
    }
    expect(await sent()).toEqual(['cmp_summer', 'cmp_winter'])
  })

  it('counts an engagement on a click inside an advisor element, even when the page stops the event', async () => {
    const { el, sent } = track()
    el('shoes').addEventListener('click', (e) => e.stopPropagation())
    el('label').click()
    el('shoes').click()
    document.body.click()
    expect(await sent()).toEqual(['adv_shoes'])
  })

  it("counts a click that the page's own capturing listener on the document swallows", async () => {
    // Registered before the tracker, as a page's script that runs first would be.
    const swallow = (e: Event) => e.stopImmediatePropagation()
    document.addEventListener('click', swallow, true)
    try {
      const { el, sent } = track()
      el('shoes').click()
      expect(await sent()).toEqual(['adv_shoes'])
    } finally {
      document.removeEventListener('click', swallow, true)
    }
  })

  it('picks up campaign and advisor elements added after load', async () => {
    const { io, el, sent } = track()
    document.body.insertAdjacentHTML(
      'beforeend',
      '<section><p id="late" data-tally-campaign="cmp_late">New</p><a id="bags" data-tally-advisor="adv_bags">Bags</a></section>',
    )
    await vi.advanceTimersByTimeAsync(0)
    expect(io.observed.has(el('late'))).toBe(true)
    io.show(el('late'), 0.7)
    await vi.advanceTimersByTimeAsync(1000)
    el('bags').click()
    expect(await sent()).toEqual(['cmp_late', 'adv_bags'])
  })

  it('is off by default for the ESM tracker', () => {
    const before = observers.length
    createTracker({ container: 'ctr_shop', endpoint: 'https://collector.test', store: memoryStore(), fetch: fakeCollector().fetch })
    expect(observers.length).toBe(before)
  })
})
