import { describe, expect, it } from 'vitest'
import { MAX_AGE_MS, MAX_BODY_BYTES, MAX_FUTURE_MS } from '@tally/protocol'
import { NOW, ORIGIN, batch, chat, engagement, impression, nextId, setup, testConfig, STORED_ROWS } from '../testkit.js'

const rollup = (count: ReturnType<typeof setup>['count'], kind: string, subject: string) =>
  count('SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = ? AND subject = ?', kind, subject)

describe('request-level errors of docs/protocol.md §3', () => {
  const cases: Array<[string, () => { body: BodyInit; headers?: Record<string, string>; container?: string; origin?: string }, number, string]> = [
    ['a body that is not JSON', () => ({ body: '{"v":1,' }), 400, 'invalid_json'],
    ['a body that is not UTF-8', () => ({ body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }), 400, 'invalid_json'],
    ['an empty body', () => ({ body: '' }), 400, 'invalid_json'],
    ['a JSON array instead of a batch', () => ({ body: '[]' }), 400, 'invalid_batch'],
    ['an unknown protocol version', () => ({ body: JSON.stringify({ ...batch([impression()]), v: 2 }) }), 400, 'invalid_batch'],
    ['a batch without sentAt', () => ({ body: JSON.stringify({ v: 1, events: [impression()] }) }), 400, 'invalid_batch'],
    ['a batch without events', () => ({ body: JSON.stringify(batch([])) }), 400, 'invalid_batch'],
    ['a batch of 501 events', () => ({ body: JSON.stringify(batch(Array.from({ length: 501 }, () => ({})))) }), 400, 'invalid_batch'],
    ['an unknown container', () => ({ body: JSON.stringify(batch([impression()])), container: 'ctr_missing' }), 403, 'forbidden'],
    ['an origin not in the container', () => ({ body: JSON.stringify(batch([impression()])), origin: 'https://evil.net' }), 403, 'forbidden'],
    [
      'an inactive account',
      () => ({ body: JSON.stringify(batch([impression('cmp_a')])), container: 'ctr_dormant', origin: 'https://dormant.test' }),
      403,
      'forbidden',
    ],
    ['a declared body over 65536 bytes', () => ({ body: 'x'.repeat(MAX_BODY_BYTES + 1) }), 413, 'payload_too_large'],
    [
      'a streamed body over 65536 bytes without a length',
      () => ({
        body: new ReadableStream({
          start(ctl) {
            for (let i = 0; i < 5; i++) ctl.enqueue(new TextEncoder().encode('x'.repeat(16_000)))
            ctl.close()
          },
        }),
      }),
      413,
      'payload_too_large',
    ],
  ]
  it.each(cases)('answers %s with %i %s, CORS headers included, and writes nothing', async (_n, make, status, code) => {
    const { app, count } = setup()
    const { body, headers = {}, container = 'ctr_shop', origin = ORIGIN } = make()
    const res = await app.request(`/v1/containers/${container}/events`, {
      method: 'POST',
      body,
      headers: { origin, 'content-type': 'text/plain', ...headers },
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(status)
    expect(await res.json()).toEqual({ error: { code, message: expect.any(String) } })
    expect(res.headers.get('access-control-allow-origin')).toBe(origin)
    expect(res.headers.get('vary')).toContain('Origin')
    expect(count(STORED_ROWS)).toBe(0)
  })

  it('accepts a body of exactly 65536 bytes', async () => {
    const { post } = setup()
    const json = JSON.stringify(batch([impression()]))
    const padded = `${json.slice(0, -1)},"pad":"${'x'.repeat(MAX_BODY_BYTES - json.length - 9)}"}`
    expect(new TextEncoder().encode(padded).byteLength).toBe(MAX_BODY_BYTES)
    const res = await post(padded)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
  })
})

describe('per-event codes', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['an event without an id', { type: 'impression', session: 's_1', campaign: 'cmp_summer', ts: NOW }, 'invalid_event'],
    ['an id with a space', { ...impression(), id: 'a b' }, 'invalid_event'],
    ['an id over 64 chars', { ...impression(), id: 'x'.repeat(65) }, 'invalid_event'],
    ['an unknown type', { ...impression(), type: 'purchase' }, 'invalid_event'],
    ['a campaign with a NUL byte', { ...impression(), campaign: 'cmp\u0000x' }, 'invalid_event'],
    ['a campaign with a lone surrogate', { ...impression(), campaign: 'cmp\ud800' }, 'invalid_event'],
    ['a chat event with an unknown phase', chat('pause', NOW), 'invalid_event'],
    ['a campaign that does not exist', impression('cmp_nope'), 'unknown_campaign'],
    ['a campaign named like an object property', impression('constructor'), 'unknown_campaign'],
    ['a campaign named __proto__', impression('__proto__'), 'unknown_campaign'],
    ['an inactive campaign', impression('cmp_old'), 'inactive_campaign'],
    ['an advisor that does not exist', engagement('adv_nope'), 'unknown_advisor'],
    ['an inactive advisor', engagement('adv_old'), 'inactive_advisor'],
    ['a bot that does not exist', chat('start', NOW, 'conv_x', 'bot_nope'), 'unknown_bot'],
    ['an inactive bot', chat('start', NOW, 'conv_x', 'bot_off'), 'unknown_bot'],
    ['an event more than 5 minutes in the future', impression('cmp_summer', 's_1', nextId(), NOW + MAX_FUTURE_MS + 1), 'event_in_future'],
    ['an event more than 72 hours old', impression('cmp_summer', 's_1', nextId(), NOW - MAX_AGE_MS - 1), 'event_too_old'],
  ]
  it.each(cases)('refuses %s with its index and counts its valid siblings', async (_n, bad, code) => {
    const { post, count } = setup()
    const res = await post(batch([impression('cmp_summer', 's_a'), bad, engagement('adv_shoes', 's_a')]))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ accepted: 2, duplicates: 0, rejected: [{ index: 1, code }] })
    expect(count(STORED_ROWS)).toBe(2)
  })

  it('accepts events exactly at the edges of the time window', async () => {
    const { post } = setup()
    const res = await post(batch([impression('cmp_summer', 's_1', nextId(), NOW + MAX_FUTURE_MS), impression('cmp_winter', 's_1', nextId(), NOW - MAX_AGE_MS)]))
    expect(await res.json()).toEqual({ accepted: 2, duplicates: 0, rejected: [] })
  })

  it('corrects the client clock with sentAt: a browser an hour behind is on time', async () => {
    const { post, count } = setup()
    const hour = 3_600_000
    const res = await post(batch([impression('cmp_summer', 's_1', 'skewed', NOW - hour - 2000)], NOW - hour))
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    expect(count('SELECT time AS n FROM impressions WHERE event_id = ?', 'skewed')).toBe(NOW - 2000)
  })
})

describe('both content types and unknown fields', () => {
  it.each(['text/plain;charset=UTF-8', 'application/json', 'text/plain'])('parses a %s body', async (type) => {
    const { post } = setup()
    const res = await post(batch([impression()]), { headers: { 'content-type': type } })
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
  })

  it('ignores unknown fields in the batch and in events', async () => {
    const { post } = setup()
    const res = await post({ ...batch([{ ...impression(), extra: { deep: true } }]), future: 1 })
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
  })
})

describe('exactly once', () => {
  it('counts a retried event (same id) once', async () => {
    const { post, count } = setup()
    const e = impression('cmp_summer', 's_1', 'same-id')
    expect(await (await post(batch([e]))).json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    expect(await (await post(batch([e]))).json()).toEqual({ accepted: 0, duplicates: 1, rejected: [] })
    expect(rollup(count, 'campaign', 'cmp_summer')).toBe(1)
  })

  it('counts the same id twice in one batch once', async () => {
    const { post } = setup()
    const e = engagement('adv_shoes', 's_1', 'twice')
    expect(await (await post(batch([e, e]))).json()).toEqual({ accepted: 1, duplicates: 1, rejected: [] })
  })

  it('counts one impression per session and campaign, one engagement per session and advisor', async () => {
    const { post, count } = setup()
    const res = await post(
      batch([
        impression('cmp_summer', 's_1'),
        impression('cmp_summer', 's_1'),
        impression('cmp_winter', 's_1'),
        impression('cmp_summer', 's_2'),
        engagement('adv_shoes', 's_1'),
        engagement('adv_shoes', 's_1'),
      ]),
    )
    expect(await res.json()).toEqual({ accepted: 4, duplicates: 2, rejected: [] })
    expect(rollup(count, 'campaign', 'cmp_summer')).toBe(2)
    expect(rollup(count, 'campaign', 'cmp_winter')).toBe(1)
    expect(rollup(count, 'advisor', 'adv_shoes')).toBe(1)
  })

  it('counts once when two tabs send the same impression at the same moment', async () => {
    const { post, count } = setup()
    const [a, b] = await Promise.all([post(batch([impression('cmp_summer', 's_tabs', 'tab-1')])), post(batch([impression('cmp_summer', 's_tabs', 'tab-2')]))])
    const results = [await a.json(), await b.json()] as Array<{ accepted: number; duplicates: number }>
    expect(results.map((r) => r.accepted).sort()).toEqual([0, 1])
    expect(results.map((r) => r.duplicates).sort()).toEqual([0, 1])
    expect(rollup(count, 'campaign', 'cmp_summer')).toBe(1)
  })

  it('counts once when two tabs retry the same event id at the same moment', async () => {
    const { post, count } = setup()
    const e = impression('cmp_summer', 's_race', 'raced')
    const results = await Promise.all([post(batch([e])), post(batch([e])), post(batch([e]))].map(async (r) => (await r).json()))
    expect(results).toContainEqual({ accepted: 1, duplicates: 0, rejected: [] })
    expect(results.filter((r) => (r as { accepted: number }).accepted === 1)).toHaveLength(1)
    expect(count('SELECT COUNT(*) AS n FROM impressions')).toBe(1)
  })

  it('rolls impressions up per day in the account time zone', async () => {
    const { post, count } = setup()
    // 23:30 UTC on July 19 is 01:30 on July 20 in Amsterdam (UTC+2 in summer).
    const late = Date.UTC(2026, 6, 19, 23, 30)
    await post(batch([impression('cmp_summer', 's_1', nextId(), late), impression('cmp_summer', 's_2', nextId(), Date.UTC(2026, 6, 19, 21, 0))]))
    expect(count("SELECT units AS n FROM rollups WHERE day = '2026-07-20' AND subject = 'cmp_summer'")).toBe(1)
    expect(count("SELECT units AS n FROM rollups WHERE day = '2026-07-19' AND subject = 'cmp_summer'")).toBe(1)
  })
})

describe('storage failure', () => {
  /** Caps the database at its current size: the next page it needs fails with SQLITE_FULL, as a full disk does. */
  const fillDisk = (db: ReturnType<typeof setup>['store']['db']) => {
    const pages = db.pragma('page_count', { simple: true }) as number
    db.pragma(`max_page_count = ${pages}`)
  }

  it('answers 503 with Retry-After and writes nothing when the disk is full', async () => {
    const { post, store, count } = setup()
    fillDisk(store.db)
    const many = Array.from({ length: 200 }, (_, k) => impression('cmp_summer', `s_full_${k}`))
    const res = await post(batch([...many, engagement('adv_shoes'), chat('start', NOW)]))
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    expect(await res.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } })
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    for (const table of ['impressions', 'engagements', 'chat_events', 'conversations', 'rollups']) {
      expect(count(`SELECT COUNT(*) AS n FROM ${table}`)).toBe(0)
    }
    // Room again (an operator freed the disk): the same batch, retried, counts once.
    store.db.pragma('max_page_count = 1073741823')
    expect(await (await post(batch([...many, engagement('adv_shoes'), chat('start', NOW)]))).json()).toEqual({ accepted: 202, duplicates: 0, rejected: [] })
  })

  it('answers 500 with an error id, not 503, and writes nothing of a batch whose last part fails for a deterministic reason', async () => {
    const { post, store, count } = setup()
    store.db.exec("CREATE TRIGGER fail_conversations BEFORE INSERT ON conversations BEGIN SELECT RAISE(ABORT, 'a bug'); END")
    const res = await post(batch([impression('cmp_summer'), engagement('adv_shoes'), chat('start', NOW)]))
    expect(res.status).toBe(500)
    expect(res.headers.get('retry-after')).toBeNull()
    const body = await res.json()
    expect(body).toEqual({
      error: { code: 'internal', message: expect.stringContaining(body.error.errorId), errorId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    })
    for (const table of ['impressions', 'engagements', 'chat_events', 'rollups']) {
      expect(count(`SELECT COUNT(*) AS n FROM ${table}`)).toBe(0)
    }
  })

  it('commits the other requests of the same group when one request fails', async () => {
    const { post, store, count } = setup()
    store.db.exec("CREATE TRIGGER fail_conversations BEFORE INSERT ON conversations BEGIN SELECT RAISE(ABORT, 'a bug'); END")
    const [bad, good] = await Promise.all([post(batch([chat('start', NOW)])), post(batch([impression('cmp_summer', 's_ok')]))])
    expect(bad.status).toBe(500)
    expect(await good.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    expect(count(STORED_ROWS)).toBe(1)
  })

  it('answers 503 when the store is closed, and a retry after recovery counts once', async () => {
    const first = setup()
    await first.store.close()
    const res = await first.post(batch([impression('cmp_summer', 's_1', 'after-outage')]))
    expect(res.status).toBe(503)
    const second = setup()
    expect(await (await second.post(batch([impression('cmp_summer', 's_1', 'after-outage')]))).json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
  })
})

describe('abuse', () => {
  it.each(['Googlebot/2.1 (+http://www.google.com/bot.html)', 'Mozilla/5.0 (compatible; bingbot/2.0)', 'HeadlessChrome/120.0', 'curl/8.0'])(
    'answers the bot user agent %s with 200, X-Tally-Dropped: bot, and stores nothing',
    async (ua) => {
      const { post, count } = setup()
      const res = await post(batch([impression()]), { headers: { 'user-agent': ua } })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-tally-dropped')).toBe('bot')
      expect(res.headers.get('access-control-expose-headers')).toContain('X-Tally-Dropped')
      expect(await res.json()).toEqual({ accepted: 0, duplicates: 0, rejected: [] })
      expect(count(STORED_ROWS)).toBe(0)
    },
  )

  it('counts a browser user agent', async () => {
    const { post } = setup()
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'
    const res = await post(batch([impression()]), { headers: { 'user-agent': ua } })
    expect(res.headers.get('x-tally-dropped')).toBeNull()
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
  })

  it('still tells a bot from a browser after a thousand other user agents, each answered as itself', async () => {
    const { post } = setup({ config: testConfig({ server: { rateLimits: { perIp: { rate: 1e6, burst: 1e6 }, perContainer: { rate: 1e6, burst: 1e6 } } } }) })
    const browser = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'
    const dropped = async (ua: string) => (await post(batch([impression()]), { headers: { 'user-agent': ua } })).headers.get('x-tally-dropped')
    // The remembered verdicts are forgotten past a thousand strings: the same answers before and after.
    expect(await dropped('curl/8.0')).toBe('bot')
    expect(await dropped(browser)).toBeNull()
    for (let i = 0; i < 1001; i++) expect(await dropped(i % 2 ? `curl/${i}.0` : `${browser} r/${i}`), String(i)).toBe(i % 2 ? 'bot' : null)
    expect(await dropped('curl/8.0')).toBe('bot')
    expect(await dropped(browser)).toBeNull()
  })

  const limited = (rateLimits: object, trustedProxies: string[] = []) => setup({ config: testConfig({ server: { rateLimits, trustedProxies } }) })
  const from = (app: ReturnType<typeof setup>['app'], remote: string, headers: Record<string, string> = {}) =>
    app.request(
      '/v1/containers/ctr_shop/events',
      { method: 'POST', headers: { origin: ORIGIN, ...headers }, body: JSON.stringify(batch([impression('cmp_summer', nextId('s'))])) },
      { incoming: { socket: { remoteAddress: remote } } },
    )

  it('answers 429 with Retry-After once a client address spends its burst, and lets it in again later', async () => {
    const { app, clock } = limited({ perIp: { rate: 1, burst: 2 } })
    expect((await from(app, '203.0.113.7')).status).toBe(200)
    expect((await from(app, '203.0.113.7')).status).toBe(200)
    const refused = await from(app, '203.0.113.7')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(refused.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(await refused.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } })
    expect((await from(app, '198.51.100.1')).status).toBe(200)
    clock.advance(1000)
    expect((await from(app, '203.0.113.7')).status).toBe(200)
  })

  it('limits each container over all its clients', async () => {
    const { app } = limited({ perContainer: { rate: 0.5, burst: 3 } })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await from(app, `203.0.113.${i}`)).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    const last = await from(app, '203.0.113.9')
    expect(last.headers.get('retry-after')).toBe('2')
  })

  const xff: Array<[string, string, string | undefined, string[], string]> = [
    ['an untrusted peer cannot choose its address with X-Forwarded-For', '203.0.113.7', '198.51.100.1', [], '203.0.113.7'],
    ['a trusted proxy passes the client address', '10.0.0.2', '203.0.113.7', ['10.0.0.0/8'], '203.0.113.7'],
    ['a visitor cannot prepend a fake address behind a trusted proxy', '10.0.0.2', '198.51.100.1, 203.0.113.7', ['10.0.0.0/8'], '203.0.113.7'],
    ['chained trusted proxies are skipped', '10.0.0.2', '203.0.113.7, 10.0.0.3', ['10.0.0.0/8'], '203.0.113.7'],
    ['an IPv4-mapped peer address matches an IPv4 proxy', '::ffff:127.0.0.1', '203.0.113.7', ['127.0.0.1'], '203.0.113.7'],
  ]
  it.each(xff)('%s', async (_n, peer, forwarded, proxies, client) => {
    const { app } = limited({ perIp: { rate: 0.001, burst: 1 } }, proxies)
    const headers: Record<string, string> = forwarded ? { 'x-forwarded-for': forwarded } : {}
    expect((await from(app, peer, headers)).status).toBe(200)
    // The bucket spent is the client's: a second request from the same client is limited...
    const again = await from(app, peer, { 'x-forwarded-for': client })
    expect(again.status).toBe(429)
    // ...and another client behind the same peer is not.
    const other = await from(app, peer, { 'x-forwarded-for': '192.0.2.55' })
    expect(other.status).toBe(peer === client ? 429 : 200)
  })
})

describe('rate limits for IPv6 clients', () => {
  const from = (app: ReturnType<typeof setup>['app'], remote: string) =>
    app.request(
      '/v1/containers/ctr_shop/events',
      { method: 'POST', headers: { origin: ORIGIN }, body: JSON.stringify(batch([impression('cmp_summer', nextId('s'))])) },
      { incoming: { socket: { remoteAddress: remote } } },
    )

  it('limits an IPv6 client by its /64, which one visitor can fill with fresh addresses at will', async () => {
    const { app } = setup({ config: testConfig({ server: { rateLimits: { perIp: { rate: 0.001, burst: 1 } } } }) })
    expect((await from(app, '2001:db8:1:2::1')).status).toBe(200)
    expect((await from(app, '2001:db8:1:2:ffff:ffff:ffff:fffe')).status).toBe(429)
    expect((await from(app, '2001:0db8:0001:0002:0:0:0:7')).status).toBe(429)
    expect((await from(app, '2001:db8:1:3::1')).status).toBe(200)
    expect((await from(app, '::ffff:203.0.113.7')).status).toBe(200)
    expect((await from(app, '203.0.113.8')).status).toBe(200)
  })
})

describe('CORS', () => {
  it('answers the preflight with the echoed origin', async () => {
    const { app } = setup()
    const res = await app.request('/v1/containers/ctr_shop/events', {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(res.headers.get('access-control-allow-methods')).toContain('POST')
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type')
    expect(res.headers.get('vary')).toContain('Origin')
  })

  it('echoes the origin on a 200', async () => {
    const { post } = setup()
    const res = await post(batch([impression()]))
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(res.headers.get('vary')).toContain('Origin')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
  })
})
