/**
 * Refusals are all counted, with their reason and subject, and a flood of them cannot grow what
 * `GET /v1/rejections` reads or answers (docs/security.md): 36,000 distinct forged origins make a
 * bounded number of rows, a small answer, and pages.
 */
import { describe, expect, it } from 'vitest'
import pino from 'pino'
import { NOW, batch, chat, engagement, impression, setup, testConfig } from '../../apps/collector/src/testkit.js'

const RK = { authorization: 'Bearer rk_acme_read' }
const open = { rateLimits: { perIp: { rate: 1e9, burst: 1e9 }, perContainer: { rate: 1e9, burst: 1e9 } } }
type Row = { container: string; reason: string; origin: string; subject: string; count: number }

describe('every refusal a storefront can cause', () => {
  it('is counted with its reason, and with the subject an event named', async () => {
    const s = setup({ config: testConfig({ server: { rateLimits: { perIp: { rate: 0.001, burst: 8 }, perContainer: { rate: 1e9, burst: 1e9 } } } }) })
    await s.post(batch([impression()]), { origin: 'https://evil.test' })
    await s.post(batch([impression()]), { container: 'ctr_nope' })
    await s.post(batch([impression('cmp_a')]), { container: 'ctr_dormant', origin: 'https://dormant.test' })
    await s.post(batch([impression()]), { headers: { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' } })
    await s.post(
      batch([
        impression('cmp_nope'),
        impression('cmp_old'),
        engagement('adv_nope'),
        engagement('adv_old'),
        chat('start', NOW, 'conv_x', 'bot_nope'),
        impression('cmp_summer', 's_1', 'old_1', NOW - 73 * 3_600_000),
        impression('cmp_summer', 's_1', 'future_1', NOW + 3_600_000),
        { id: 'bad' },
      ]),
    )
    await s.post('{"v":1,')
    for (let i = 0; i < 5; i++) await s.post(batch([impression()]))
    const res = await s.app.request('/v1/rejections?limit=500', { headers: RK })
    const rows = (await res.json()).rejections as Row[]
    const seen = rows.map((r) => [r.reason, r.subject]).sort()
    expect(seen).toEqual([
      ['bot', ''],
      ['event_in_future', 'cmp_summer'],
      ['event_too_old', 'cmp_summer'],
      ['inactive_advisor', 'adv_old'],
      ['inactive_campaign', 'cmp_old'],
      ['invalid_event', ''],
      ['invalid_json', ''],
      ['origin_not_allowed', ''],
      ['rate_limited', ''],
      ['unknown_advisor', 'adv_nope'],
      ['unknown_bot', 'bot_nope'],
      ['unknown_campaign', 'cmp_nope'],
    ])
    expect(rows.find((r) => r.reason === 'rate_limited')?.count).toBe(3)
    // The inactive account sees its own refusal; nobody's key reads the unknown container's.
    const dormant = await (await s.app.request('/v1/rejections', { headers: { authorization: 'Bearer rk_dormant_read' } })).json()
    expect(dormant.rejections.map((r: Row) => r.reason)).toEqual(['account_inactive'])
    expect(s.count("SELECT COUNT(*) AS n FROM rejections WHERE account IS NULL AND reason = 'unknown_container'")).toBe(1)
  })
})

describe('36,000 distinct forged origins', () => {
  it('make a bounded number of rows and a small, paged answer', async () => {
    const s = setup({ config: testConfig({ server: open }) })
    const FORGED = 36_000
    for (let i = 0; i < FORGED; i++) {
      // The minute turns every 3,000 requests: writes go out in bounded batches along the way.
      if (i % 3_000 === 0) s.clock.advance(60_000)
      const res = await s.post('{}', { origin: `https://forged-${i}.evil.test` })
      expect(res.status).toBe(403)
    }
    const res = await s.app.request('/v1/rejections?sort=count', { headers: RK })
    const text = await res.text()
    const body = JSON.parse(text) as { rejections: Row[]; nextCursor: string | null }
    // Every refusal is counted; the distinct keys past the day's budget are counted under '*'.
    const rows = s.count("SELECT COUNT(*) AS n FROM rejections WHERE account = 'acme'")
    expect(rows).toBeLessThanOrEqual(1_000 + 12)
    expect(s.count("SELECT COALESCE(SUM(count), 0) AS n FROM rejections WHERE account = 'acme'")).toBe(FORGED)
    expect(body.rejections).toHaveLength(50)
    expect(body.rejections[0]).toMatchObject({ origin: '*', reason: 'origin_not_allowed', count: FORGED - 1_000 })
    expect(text.length).toBeLessThan(16_000)
    expect(body.nextCursor).not.toBeNull()

    // Paging walks every row once and stops.
    let cursor: string | null = null
    let pages = 0
    const keys = new Set<string>()
    do {
      const q: string = `/v1/rejections?sort=count&limit=500${cursor ? `&cursor=${cursor}` : ''}`
      const page = (await (await s.app.request(q, { headers: RK })).json()) as { rejections: Row[]; nextCursor: string | null }
      for (const r of page.rejections) keys.add(`${r.container} ${r.reason} ${r.origin} ${r.subject}`)
      cursor = page.nextCursor
      pages++
    } while (cursor && pages < 10)
    expect(keys.size).toBe(rows)
    expect(pages).toBe(Math.ceil(rows / 500))
  }, 60_000)
})

describe('10,000 forged beacons, each from its own origin and container', () => {
  it('make a bounded number of log lines whose counts add up, not a line each', async () => {
    const lines: Array<{ msg: string; reason: string; container: string; count: number }> = []
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) })
    const s = setup({ config: testConfig({ server: open }), logger })
    const FORGED = 10_000
    for (let i = 0; i < FORGED; i++) {
      if (i % 2_000 === 0) s.clock.advance(5_000)
      // Half name containers that do not exist, half a real container from a wrong origin.
      const res = await s.post('{}', i % 2 ? { container: `ctr_forged_${i}` } : { origin: `https://forged-${i}.evil.test` })
      expect(res.status).toBe(403)
    }
    // A minute later, a read flushes what was counted: every key logs what it holds.
    s.clock.advance(60_000)
    expect((await s.app.request('/v1/rejections', { headers: RK })).status).toBe(200)
    const refused = lines.filter((l) => /^beacons? refused$/.test(l.msg))
    // 100 keys at most (the first line of each at once), then one `*` key per reason.
    expect(refused.length).toBeLessThanOrEqual(100 + 2 * 2)
    expect(refused.reduce((n, l) => n + l.count, 0)).toBe(FORGED)
    expect(refused.filter((l) => l.reason === 'origin_not_allowed' && l.container === 'ctr_shop').reduce((n, l) => n + l.count, 0)).toBe(FORGED / 2)
  }, 60_000)
})
