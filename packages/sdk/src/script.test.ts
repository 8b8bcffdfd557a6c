// @vitest-environment happy-dom
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Tracker } from './tracker.js'
import { fakeCollector } from './testing/collector.js'
import { installIntersectionObserver, type FakeObserver } from './testing/intersection.js'

type Tally = ((cmd: string, ...args: unknown[]) => unknown) & Partial<Tracker> & { q?: unknown[] }
const w = window as unknown as { tally?: Tally; __tally?: unknown }

let collector: ReturnType<typeof fakeCollector>
let observers: FakeObserver[]

/** The stub of docs/protocol.md §1, as a page pastes it. */
function stub() {
  w.tally = function (this: unknown) {
    // biome-ignore lint/suspicious/noAssignInExpressions lint/complexity/noArguments: the snippet pages paste, as docs/protocol.md §1 writes it
    ;(w.tally!.q = w.tally!.q || []).push(arguments)
  } as Tally
}

/** Runs t.js's entry as if loaded by `<script src=... data-*>`. */
async function load(attrs: Record<string, string>, src = 'https://collector.test/t.js') {
  const tag = document.createElement('script')
  tag.src = src
  for (const [k, v] of Object.entries(attrs)) tag.setAttribute(k, v)
  // Left out of the document: happy-dom would try to fetch it.
  Object.defineProperty(document, 'currentScript', { value: tag, configurable: true })
  vi.resetModules()
  await import('./script.js')
  Object.defineProperty(document, 'currentScript', { value: null, configurable: true })
}

/** The build flags of the script tags (debug.ts): t.debug.js unless a test says t.js. */
const flag = globalThis as { __TALLY_DEBUG__?: boolean; __TALLY_SCRIPT__?: boolean }

beforeEach(() => {
  flag.__TALLY_SCRIPT__ = true
  ;(globalThis as { indexedDB?: unknown }).indexedDB = new IDBFactory()
  collector = fakeCollector()
  vi.stubGlobal('fetch', collector.fetch)
  observers = installIntersectionObserver()
  delete w.tally
  delete w.__tally
  document.body.innerHTML = '<div id="summer" data-tally-campaign="cmp_summer"></div><button id="shoes" data-tally-advisor="adv_shoes"></button>'
})
afterEach(() => {
  vi.unstubAllGlobals()
  delete flag.__TALLY_DEBUG__
  delete flag.__TALLY_SCRIPT__
})

const subjects = () => collector.events().map((e) => (e.type === 'impression' ? e.campaign : e.type === 'engagement' ? e.advisor : e.phase))

describe('script tag', () => {
  it('replays the stub queue in order, then runs commands at once', async () => {
    stub()
    w.tally!('impression', 'cmp_a')
    w.tally!('engagement', 'adv_b')
    w.tally!('impression', 'cmp_c')
    await load({ 'data-container': 'ctr_shop' })
    w.tally!('engagement', 'adv_d')
    w.tally!.impression!('cmp_e')
    await w.tally!.flush!()
    expect(subjects()).toEqual(['cmp_a', 'adv_b', 'cmp_c', 'adv_d', 'cmp_e'])
    expect(collector.sent[0]!.url).toBe('https://collector.test/v1/containers/ctr_shop/events')
  })

  it('works without the stub, and offers chat on window.tally', async () => {
    await load({ 'data-container': 'ctr_shop' })
    const c = w.tally!.chat!('conv_1', { bot: 'bot_help' })
    c.end()
    w.tally!('unknown_command', 1)
    // Names every object has are not commands either, and must not throw into the page.
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) expect(() => w.tally!(name)).not.toThrow()
    await w.tally!.flush!()
    expect(subjects()).toEqual(['start', 'end'])
  })

  it('throws at load without data-container in t.debug.js, and loads quietly in t.js, whose events the collector refuses', async () => {
    await expect(load({})).rejects.toThrow(/container/)
    flag.__TALLY_DEBUG__ = false
    await load({ 'data-autotrack': 'false' })
    w.tally!.impression!('cmp_a')
    await w.tally!.flush!()
    expect(collector.sent[0]!.url).toBe('https://collector.test/v1/containers/undefined/events')
  })

  it('sends to data-endpoint when given, else to the origin of its own src', async () => {
    await load({ 'data-container': 'ctr_a', 'data-endpoint': 'https://events.test/' })
    w.tally!.impression!('cmp_a')
    await w.tally!.flush!()
    expect(collector.sent.at(-1)!.url).toBe('https://events.test/v1/containers/ctr_a/events')
    delete w.tally
    await load({ 'data-container': 'ctr_b' }, 'https://cdn.collector.test:8443/js/t.js?v=1')
    w.tally!.impression!('cmp_a')
    await w.tally!.flush!()
    expect(collector.sent.at(-1)!.url).toBe('https://cdn.collector.test:8443/v1/containers/ctr_b/events')
  })

  it('tracks elements unless data-autotrack="false"', async () => {
    await load({ 'data-container': 'ctr_a' })
    expect(observers).toHaveLength(1)
    await load({ 'data-container': 'ctr_b', 'data-autotrack': 'false' })
    expect(observers).toHaveLength(1)
  })

  it('reads data-session-timeout in minutes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      await load({ 'data-container': 'ctr_shop', 'data-session-timeout': '5', 'data-autotrack': 'false' })
      w.tally!('impression', 'cmp_a')
      await w.tally!.flush!()
      vi.setSystemTime(Date.now() + 5 * 60_000)
      w.tally!('impression', 'cmp_a')
      await w.tally!.flush!()
      const [first, second] = collector.events()
      expect(second).toBeDefined()
      expect(second!.session).not.toBe(first!.session)
    } finally {
      vi.useRealTimers()
    }
  })

  it('t.js keeps the newest 1000 events in its outbox while the collector is unreachable', async () => {
    flag.__TALLY_DEBUG__ = false
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('offline')))
    await load({ 'data-container': 'ctr_shop', 'data-autotrack': 'false' })
    for (let i = 0; i < 1005; i++) w.tally!('impression', `cmp_${i}`)
    /** The outbox as stored (store.ts: database `tally-<container>`, store `kv`, key `o`). */
    const outbox = () =>
      new Promise<{ campaign: string }[] | undefined>((resolve, reject) => {
        const open = indexedDB.open('tally-ctr_shop')
        open.onerror = () => reject(open.error)
        open.onsuccess = () => {
          const get = open.result.transaction('kv').objectStore('kv').get('o')
          get.onsuccess = () => {
            open.result.close()
            resolve(get.result)
          }
        }
      })
    await vi.waitFor(async () => expect((await outbox())?.at(-1)?.campaign).toBe('cmp_1004'), { timeout: 10_000, interval: 50 })
    const kept = (await outbox())!.map((e) => e.campaign)
    expect(kept).toHaveLength(1000)
    expect(kept[0]).toBe('cmp_5')
  }, 20_000)

  it('makes one tracker per container when the script is included twice', async () => {
    stub()
    w.tally!('impression', 'cmp_a')
    await load({ 'data-container': 'ctr_shop' })
    const first = w.tally
    await load({ 'data-container': 'ctr_shop' })
    expect(w.tally).toBe(first)
    expect(observers).toHaveLength(1)
    document.getElementById('shoes')!.click()
    await w.tally!.flush!()
    expect(subjects()).toEqual(['cmp_a', 'adv_shoes'])
  })

  describe('data-debug', () => {
    /** Loads the script, has the collector refuse one impression, and returns the console lines. */
    async function refused(attrs: Record<string, string>) {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      collector.reply({ body: { accepted: 0, duplicates: 0, rejected: [{ index: 0, code: 'inactive_campaign' }] } })
      await load({ 'data-container': 'ctr_shop', 'data-autotrack': 'false', ...attrs })
      w.tally!('impression', 'cmp_old')
      await w.tally!.flush!()
      const lines = warn.mock.calls.map((args) => String(args[0]))
      warn.mockRestore()
      return lines
    }

    it('logs every refusal to the console with its reason', async () => {
      expect(await refused({ 'data-debug': '' })).toEqual(['[tally] the collector refused 1 event (cmp_old): inactive_campaign (the campaign is inactive)'])
    })

    it('keeps the console silent without it', async () => {
      expect(await refused({})).toEqual([])
    })

    it('t.js retries a 503 after the backoff, then forgets the batch its 200 answered', async () => {
      flag.__TALLY_DEBUG__ = false
      collector.reply({ status: 503 })
      await load({ 'data-container': 'ctr_shop', 'data-autotrack': 'false' })
      w.tally!('impression', 'cmp_a')
      // Sent within 1 s; the retry of attempt 0 waits 1-2 s more.
      await vi.waitFor(() => expect(collector.sent).toHaveLength(1), { timeout: 1500 })
      await vi.waitFor(() => expect(collector.sent).toHaveLength(2), { timeout: 2500 })
      await w.tally!.flush!()
      expect(collector.sent).toHaveLength(2)
      expect(collector.sent[1]!.batch.events.map((e) => e.id)).toEqual(collector.sent[0]!.batch.events.map((e) => e.id))
    })

    it('is ignored by a build without diagnostics (t.js), which drops the same event silently', async () => {
      // t.js: no diagnostics, and no refusal parsing for an onDrop the tag lacks.
      flag.__TALLY_DEBUG__ = false
      expect(await refused({ 'data-debug': '' })).toEqual([])
      expect(subjects()).toEqual(['cmp_old'])
    })
  })
})
