import { beforeAll, describe, expect, it } from 'vitest'
import { NOW } from '../testkit.js'
import { HOUR, seeded, type S, get, rows, zero, RANGE } from './usage-report.fixtures.js'

describe('GET /v1/usage groupings', () => {
  let s: S
  beforeAll(async () => {
    s = await seeded()
    expect(NOW).toBe(Date.UTC(2026, 6, 20, 12))
  })

  it('answers one row of totals when groupBy is empty', async () => {
    expect(await rows(s, RANGE)).toEqual([{ ...zero, impressions: 4, engagements: 2, chatSessions: 2 }])
  })

  it('answers the range, time zone and groupings it used beside the rows', async () => {
    const body = await (await get(s, `${RANGE}&groupBy=bot,day`)).json()
    expect(body).toMatchObject({ account: 'acme', timezone: 'Europe/Amsterdam', from: '2026-07-19', to: '2026-07-20', groupBy: ['day', 'bot'] })
  })

  it('groups by day in the account time zone', async () => {
    expect(await rows(s, `${RANGE}&groupBy=day`)).toEqual([
      { day: '2026-07-19', ...zero, impressions: 1 },
      { day: '2026-07-20', ...zero, impressions: 3, engagements: 2, chatSessions: 2 },
    ])
  })

  it('groups by container, with the container name', async () => {
    expect(await rows(s, `${RANGE}&groupBy=container`)).toEqual([
      { container: 'ctr_blog', containerName: 'Blog', ...zero, impressions: 1 },
      { container: 'ctr_shop', containerName: 'Shop, "North"\nbranch', ...zero, impressions: 3, engagements: 2, chatSessions: 2 },
    ])
  })

  it('groups by campaign, putting usage of no campaign in a row with campaign null', async () => {
    expect(await rows(s, `${RANGE}&groupBy=campaign`)).toEqual([
      { campaign: null, ...zero, engagements: 2, chatSessions: 2 },
      { campaign: 'cmp_summer', ...zero, impressions: 3 },
      { campaign: 'cmp_winter', ...zero, impressions: 1 },
    ])
  })

  it('groups by advisor', async () => {
    expect(await rows(s, `${RANGE}&groupBy=advisor`)).toEqual([
      { advisor: null, ...zero, impressions: 4, chatSessions: 2 },
      { advisor: 'adv_gifts', ...zero, engagements: 1 },
      { advisor: 'adv_shoes', ...zero, engagements: 1 },
    ])
  })

  it('groups by bot, counting a 20-minute conversation as two chat sessions', async () => {
    expect(await rows(s, `${RANGE}&groupBy=bot`)).toEqual([
      { bot: null, ...zero, impressions: 4, engagements: 2 },
      { bot: 'bot_help', ...zero, chatSessions: 2 },
    ])
  })

  it('combines groupings in any order, in the canonical column order', async () => {
    const a = await rows(s, `${RANGE}&groupBy=campaign,day,container`)
    const b = await rows(s, `${RANGE}&groupBy=container,campaign,day`)
    expect(a).toEqual(b)
    expect(a).toEqual([
      { day: '2026-07-19', container: 'ctr_shop', containerName: 'Shop, "North"\nbranch', campaign: 'cmp_summer', ...zero, impressions: 1 },
      { day: '2026-07-20', container: 'ctr_blog', containerName: 'Blog', campaign: 'cmp_summer', ...zero, impressions: 1 },
      { day: '2026-07-20', container: 'ctr_shop', containerName: 'Shop, "North"\nbranch', campaign: null, ...zero, engagements: 2, chatSessions: 2 },
      { day: '2026-07-20', container: 'ctr_shop', containerName: 'Shop, "North"\nbranch', campaign: 'cmp_summer', ...zero, impressions: 1 },
      { day: '2026-07-20', container: 'ctr_shop', containerName: 'Shop, "North"\nbranch', campaign: 'cmp_winter', ...zero, impressions: 1 },
    ])
  })

  it('gives the same totals whatever the grouping', async () => {
    const all = ['day', 'container', 'campaign', 'advisor', 'bot']
    const groupings = [[], ...all.map((g) => [g]), all]
    for (const g of groupings) {
      const sum = { ...zero }
      for (const r of await rows(s, `${RANGE}&groupBy=${g.join(',')}`)) {
        for (const m of Object.keys(zero) as Array<keyof typeof zero>) sum[m] += r[m] as number
      }
      expect(sum, g.join(',')).toEqual({ ...zero, impressions: 4, engagements: 2, chatSessions: 2 })
    }
  })
})

describe('GET /v1/usage filters', () => {
  let s: S
  beforeAll(async () => {
    s = await seeded()
  })

  it.each([
    ['container', '&container=ctr_blog', { impressions: 1 }],
    ['container', '&container=ctr_shop', { impressions: 3, engagements: 2, chatSessions: 2 }],
    ['campaign', '&campaign=cmp_summer', { impressions: 3 }],
    ['campaign and container', '&campaign=cmp_summer&container=ctr_shop', { impressions: 2 }],
    ['advisor', '&advisor=adv_gifts', { engagements: 1 }],
    ['bot', '&bot=bot_help', { chatSessions: 2 }],
    ['campaign or advisor', '&campaign=cmp_winter&advisor=adv_shoes', { impressions: 1, engagements: 1 }],
    ['an unknown campaign', '&campaign=cmp_nope', {}],
  ])('keeps the usage of the %s named (%s)', async (_, query, totals) => {
    const res = await get(s, `${RANGE}${query}`)
    const body = await res.json()
    expect(body.rows).toEqual([{ ...zero, ...totals }])
    expect(Object.keys(body.filters).sort()).toEqual([...query.matchAll(/&(\w+)=/g)].map((m) => m[1]).sort())
  })

  it('leaves server-side usage out when filtered, since it belongs to no container or subject', async () => {
    const res = await s.app.request('/v1/usage', {
      method: 'POST',
      headers: { authorization: 'Bearer sk_acme_secret', 'content-type': 'application/json' },
      body: JSON.stringify({ events: [{ id: 'fa1', type: 'alert', alert: 'daily-sales', user: 'u_1', ts: NOW - HOUR }] }),
    })
    expect(res.status).toBe(200)
    expect((await rows(s, RANGE))[0]?.alerts).toBe(1)
    expect((await rows(s, `${RANGE}&container=ctr_shop`))[0]?.alerts).toBe(0)
  })

  it('filters the grouped rows and the CSV alike', async () => {
    expect(await rows(s, `${RANGE}&groupBy=campaign&container=ctr_shop&campaign=cmp_summer`)).toEqual([{ campaign: 'cmp_summer', ...zero, impressions: 2 }])
    const csv = await (await get(s, `${RANGE}&groupBy=container&campaign=cmp_summer&format=csv`)).text()
    expect(csv).toBe(
      'container,containerName,impressions,engagements,chatSessions,alerts,credits,suspicious\r\nctr_blog,Blog,1,0,0,0,0,0\r\nctr_shop,"Shop, ""North""\nbranch",2,0,0,0,0,0\r\n',
    )
  })
})

describe('GET /v1/usage display names', () => {
  it('names the campaigns, advisors and bots of the rows that have a name in the configuration', async () => {
    const s = await seeded()
    const body = await (await get(s, `${RANGE}&groupBy=campaign,advisor,bot`)).json()
    expect(body.names).toEqual({ campaign: { cmp_summer: 'Summer sale' }, advisor: { adv_gifts: 'Gift finder' }, bot: { bot_help: 'Help desk' } })
    expect((await (await get(s, RANGE)).json()).names).toEqual({ campaign: {}, advisor: {}, bot: {} })
  })
})

describe('GET /v1/usage with server-side usage', () => {
  it('counts alert sessions and credits spent on their local day, outside any container, campaign, advisor or bot', async () => {
    const s = await seeded()
    const res = await s.app.request('/v1/usage', {
      method: 'POST',
      headers: { authorization: 'Bearer sk_acme_secret', 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [
          { id: 'a1', type: 'alert', alert: 'daily-sales', user: 'u_1', ts: NOW - HOUR },
          { id: 'a2', type: 'alert', alert: 'daily-sales', user: 'u_2', ts: Date.UTC(2026, 6, 19, 21, 30) },
          { id: 'x1', type: 'action', action: 'sms', quantity: 3, ts: NOW - HOUR },
          { id: 'x2', type: 'action', action: 'ai', quantity: 1, ts: NOW - HOUR },
          { id: 'x3', type: 'action', action: 'unpriced', quantity: 1, ts: NOW - HOUR },
        ],
      }),
    })
    expect(res.status).toBe(200)
    expect((await res.json()).results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted'])
    expect(await rows(s, `${RANGE}&groupBy=day`)).toEqual([
      { day: '2026-07-19', ...zero, impressions: 1, alerts: 1 },
      { day: '2026-07-20', ...zero, impressions: 3, engagements: 2, chatSessions: 2, alerts: 1, credits: 16 },
    ])
    expect(await rows(s, `${RANGE}&groupBy=container`)).toEqual([
      { container: null, containerName: '', ...zero, alerts: 2, credits: 16 },
      { container: 'ctr_blog', containerName: 'Blog', ...zero, impressions: 1 },
      { container: 'ctr_shop', containerName: 'Shop, "North"\nbranch', ...zero, impressions: 3, engagements: 2, chatSessions: 2 },
    ])
    expect(await rows(s, '?from=2026-07-19&to=2026-07-19')).toEqual([{ ...zero, impressions: 1, alerts: 1 }])
    expect(await rows(s, `${RANGE}`, 'rk_other_read')).toEqual([{ ...zero, impressions: 1 }])
  })
})
