// @vitest-environment happy-dom
/**
 * The real SDK (`createTracker`) against the in-process collector: what the page sends is what
 * the collector counts, retries and lost answers included.
 */
import { describe, expect, it } from 'vitest'
import { createTracker, memoryStore, type FetchLike } from '@tally/sdk'
import { setup, ORIGIN, STORED_ROWS } from '../apps/collector/src/testkit.js'
import { systemClock } from '../apps/collector/src/domain/clock.js'

const ENDPOINT = 'https://collector.test'

/**
 * The request a page at `origin` makes: the browser adds `Origin` itself. happy-dom's Request,
 * like a browser's, drops an `Origin` given by the caller, so it is set on the built request.
 */
function fromPage(origin: string, url: string, init: RequestInit): Request {
  const req = new Request(url, init)
  req.headers.set('origin', origin)
  return req
}

function collector() {
  const c = setup({ clock: systemClock })
  const seen: number[] = []
  const fetch: FetchLike = async (url, init) => {
    const res = await c.app.fetch(fromPage(ORIGIN, url, init))
    seen.push(res.status)
    return res
  }
  const units = (kind: string) => c.count('SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = ?', kind)
  return { ...c, fetch, seen, units }
}

describe('the SDK against the collector', () => {
  it('counts one impression per campaign and one engagement per advisor in a session', async () => {
    const c = collector()
    const t = createTracker({ container: 'ctr_shop', endpoint: ENDPOINT, fetch: c.fetch, store: memoryStore(), sendBeacon: () => false })
    t.impression('cmp_summer')
    t.impression('cmp_summer')
    t.impression('cmp_winter')
    t.engagement('adv_shoes')
    t.engagement('adv_shoes')
    await t.flush()
    expect(c.units('campaign')).toBe(2)
    expect(c.units('advisor')).toBe(1)
    expect(c.count('SELECT COUNT(DISTINCT session) AS n FROM impressions')).toBe(1)
    expect(c.count('SELECT session = ? AS n FROM impressions LIMIT 1', t.sessionId())).toBe(1)
  })

  it('reports events the collector refuses through onDrop with their code', async () => {
    const c = collector()
    const dropped: Array<[string, string]> = []
    const t = createTracker({
      container: 'ctr_shop',
      endpoint: ENDPOINT,
      fetch: c.fetch,
      store: memoryStore(),
      sendBeacon: () => false,
      onDrop: (e, reason) => dropped.push([e.type, reason]),
    })
    t.impression('cmp_old')
    t.engagement('adv_nope')
    t.impression('cmp_summer')
    await t.flush()
    expect(dropped.sort()).toEqual([
      ['engagement', 'unknown_advisor'],
      ['impression', 'inactive_campaign'],
    ])
    expect(c.units('campaign')).toBe(1)
  })

  it('counts a batch once when its answer is lost and the SDK sends it again', async () => {
    const c = collector()
    let lose = true
    const lossy: FetchLike = async (url, init) => {
      const res = await c.fetch(url, init)
      if (lose) {
        lose = false
        throw new TypeError('network connection lost after the request was received')
      }
      return res
    }
    const t = createTracker({ container: 'ctr_shop', endpoint: ENDPOINT, fetch: lossy, store: memoryStore(), sendBeacon: () => false })
    t.impression('cmp_summer')
    t.engagement('adv_shoes')
    await t.flush()
    expect(c.seen).toEqual([200, 200])
    expect(c.count(STORED_ROWS)).toBe(2)
    expect(c.units('campaign')).toBe(1)
    expect(c.units('advisor')).toBe(1)
  })

  it('counts once when two tabs of one session both send the impression', async () => {
    const c = collector()
    const shared = memoryStore()
    const tabs = [1, 2].map(() => createTracker({ container: 'ctr_shop', endpoint: ENDPOINT, fetch: c.fetch, store: shared, sendBeacon: () => false }))
    for (const t of tabs) t.impression('cmp_summer')
    await Promise.all(tabs.map((t) => t.flush()))
    expect(tabs[0]?.sessionId()).toBe(tabs[1]?.sessionId())
    expect(c.units('campaign')).toBe(1)
  })

  it('folds a chat conversation with a handoff into chat sessions', async () => {
    const c = collector()
    const t = createTracker({ container: 'ctr_shop', endpoint: ENDPOINT, fetch: c.fetch, store: memoryStore(), sendBeacon: () => false })
    const chat = t.chat('conv_e2e', { bot: 'bot_help' })
    chat.handoff()
    chat.resume()
    chat.end()
    await t.flush()
    const [row] = await c.store.conversations('acme', 0, Date.now() + 60_000)
    expect(row).toMatchObject({ conversation: 'conv_e2e', bot: 'bot_help', status: 'ended' })
    expect(c.count("SELECT COUNT(*) AS n FROM chat_events WHERE conversation = 'conv_e2e'")).toBe(4)
    expect(c.units('bot')).toBe(row && row.botMs > 0 ? 1 : 0)
  })

  it('lets the page see a refusal of its origin instead of retrying a CORS failure', async () => {
    const c = collector()
    const statuses: number[] = []
    const dropped: string[] = []
    const evil: FetchLike = async (url, init) => {
      const res = await c.app.fetch(fromPage('https://evil.test', url, init))
      statuses.push(res.status)
      expect(res.headers.get('access-control-allow-origin')).toBe('https://evil.test')
      return res
    }
    const t = createTracker({
      container: 'ctr_shop',
      endpoint: ENDPOINT,
      fetch: evil,
      store: memoryStore(),
      sendBeacon: () => false,
      onDrop: (_e, reason) => dropped.push(reason),
    })
    t.impression('cmp_summer')
    await t.flush()
    expect(statuses).toEqual([403])
    expect(dropped).toEqual(['forbidden'])
    expect(c.count(STORED_ROWS)).toBe(0)
  })
})
