import { beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '@tally/protocol'
import { NOW, batch, impression, setup } from '../testkit.js'
import { csvField, toCsv } from '../domain/csv.js'
import { ORIGIN, seeded, type S, get, rows, zero, RANGE } from './usage-report.fixtures.js'

describe('GET /v1/usage date bounds', () => {
  let s: S
  beforeAll(async () => {
    s = await seeded()
  })

  it('includes the from day and the to day', async () => {
    expect(await rows(s, '?from=2026-07-19&to=2026-07-19')).toEqual([{ ...zero, impressions: 1 }])
    expect(await rows(s, '?from=2026-07-20&to=2026-07-20')).toEqual([{ ...zero, impressions: 3, engagements: 2, chatSessions: 2 }])
  })

  it('cuts days at local midnight: 23:30 and 00:30 Amsterdam time fall on two days though both are July 19 in UTC', async () => {
    expect(await rows(s, '?from=2026-07-19&to=2026-07-19&groupBy=campaign')).toEqual([{ campaign: 'cmp_summer', ...zero, impressions: 1 }])
  })

  it('answers the widest range it takes, 1970 to 9998, with every day in it', async () => {
    expect(await rows(s, '?from=1970-01-01&to=9998-12-31')).toEqual([{ ...zero, impressions: 4, engagements: 2, chatSessions: 2 }])
  })

  it('answers zeros for a range without usage, a row of zeros per day when grouped by day', async () => {
    expect(await rows(s, '?from=2026-06-01&to=2026-06-30')).toEqual([zero])
    // Grouped by day, every day of the range is a row (it was no row at all): a chart or a
    // spreadsheet shows the gap instead of joining the days around it.
    const days = await rows(s, '?from=2026-06-01&to=2026-06-30&groupBy=day')
    expect(days).toHaveLength(30)
    expect(days[0]).toEqual({ day: '2026-06-01', ...zero })
    expect(days[29]).toEqual({ day: '2026-06-30', ...zero })
  })

  it('fills the days without usage between days with usage, in JSON and in CSV, in day order', async () => {
    expect(await rows(s, '?from=2026-07-17&to=2026-07-21&groupBy=day')).toEqual([
      { day: '2026-07-17', ...zero },
      { day: '2026-07-18', ...zero },
      { day: '2026-07-19', ...zero, impressions: 1 },
      { day: '2026-07-20', ...zero, impressions: 3, engagements: 2, chatSessions: 2 },
      { day: '2026-07-21', ...zero },
    ])
    expect((await rows(s, '?from=2026-07-18&to=2026-07-19&groupBy=day,container')).map((r) => [r.day, r.container, r.impressions])).toEqual([
      ['2026-07-18', null, 0],
      ['2026-07-19', 'ctr_shop', 1],
    ])
    const csv = await (await get(s, '?from=2026-07-18&to=2026-07-20&groupBy=day&format=csv')).text()
    expect(csv.split('\r\n').slice(1, 4)).toEqual(['2026-07-18,0,0,0,0,0,0', '2026-07-19,1,0,0,0,0,0', '2026-07-20,3,2,2,0,0,0'])
  })

  it('takes ten years grouped by day, and refuses a longer range grouped by day', async () => {
    expect(await rows(s, '?from=2016-07-23&to=2026-07-20&groupBy=day')).toHaveLength(3650)
    const res = await get(s, '?from=1970-01-01&to=9998-12-31&groupBy=day')
    expect(res.status).toBe(400)
    expect((await res.json()).error.message).toMatch(/^from: grouped by day, the range is at most 3660 days/)
  })

  it('defaults to the 30 days ending today in the account time zone', async () => {
    const body = await (await get(s, '')).json()
    expect(body).toMatchObject({ from: '2026-06-21', to: '2026-07-20' })
    expect(body.rows).toEqual([{ ...zero, impressions: 4, engagements: 2, chatSessions: 2 }])
  })

  it('takes today from the account time zone: New York is still on July 20 when Amsterdam is on July 21', async () => {
    s.clock.set(Date.UTC(2026, 6, 21, 1, 0))
    try {
      expect((await (await get(s, '', 'rk_other_read')).json()).to).toBe('2026-07-20')
      expect((await (await get(s, '')).json()).to).toBe('2026-07-21')
    } finally {
      s.clock.set(NOW)
    }
  })

  const bad: Array<[string, string, string]> = [
    ['a from that is not a date', '?from=yesterday', 'from:'],
    ['a from of February 30', '?from=2026-02-30', 'from:'],
    ['a to without leading zeros', '?to=2026-7-1', 'to:'],
    ['a to in year 9999, whose next day has five digits', '?to=9999-12-31', 'to:'],
    ['a from before 1970', '?from=0099-01-01', 'from:'],
    ['a from after the to', '?from=2026-07-21&to=2026-07-20', 'from:'],
    ['an unknown grouping', '?groupBy=day,country', 'groupBy:'],
    ['an unknown format', '?format=xml', 'format:'],
    ['an unknown parameter', '?from=2026-07-01&groupby=day', 'groupby:'],
    ['a misspelt filter', '?campain=cmp_summer', 'campain:'],
    ['a filter that is not an id', '?container=a%0Db', 'container:'],
  ]
  it.each(bad)('refuses %s with 400 invalid_request naming the parameter', async (_name, query, param) => {
    const res = await get(s, query)
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.error.code).toBe('invalid_request')
    expect(body.error.message.startsWith(param)).toBe(true)
  })
})

describe('GET /v1/usage keys', () => {
  let s: S
  beforeAll(async () => {
    s = await seeded()
  })

  it('answers the read key and the secret key alike', async () => {
    expect(await rows(s, RANGE, 'sk_acme_secret')).toEqual(await rows(s, RANGE, 'rk_acme_read'))
  })

  it('never reads another account: each key sees its own account only', async () => {
    expect(await rows(s, `${RANGE}&groupBy=container`, 'rk_other_read')).toEqual([{ container: 'ctr_other', containerName: '', ...zero, impressions: 1 }])
    const acme = await rows(s, `${RANGE}&groupBy=container`, 'rk_acme_read')
    expect(acme.map((r) => r.container)).toEqual(['ctr_blog', 'ctr_shop'])
  })

  it('refuses a request without a key, with an unknown key or with the admin token', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer rk_nobody' }, { authorization: 'Bearer admin-token-for-tests' }]) {
      const res = await s.app.request('/v1/usage', { headers })
      expect(res.status).toBe(401)
      expect((await res.json()).error.code).toBe('unauthorized')
    }
  })

  it('lets the admin read any account under /v1/admin/accounts/{id}/usage, and 404s an unknown one', async () => {
    const admin = { authorization: 'Bearer admin-token-for-tests' }
    const res = await s.app.request(`/v1/admin/accounts/other/usage${RANGE}`, { headers: admin })
    expect((await res.json()).rows).toEqual([{ ...zero, impressions: 1 }])
    expect((await s.app.request('/v1/admin/accounts/nobody/usage', { headers: admin })).status).toBe(404)
    expect((await s.app.request('/v1/admin/accounts/other/usage', { headers: { authorization: 'Bearer rk_other_read' } })).status).toBe(401)
  })
})

describe('CSV', () => {
  it('quotes fields with commas, quotes, CR or LF and doubles the quotes (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
    expect(csvField('cr\rhere')).toBe('"cr\rhere"')
    expect(csvField(null)).toBe('')
    expect(csvField(42)).toBe('42')
    expect(
      toCsv(
        ['a', 'b'],
        [
          { a: 'x,y', b: 1 },
          { a: null, b: 2 },
        ],
      ),
    ).toBe('a,b\r\n"x,y",1\r\n,2\r\n')
  })

  it('writes a text cell a spreadsheet would run as a formula with a leading quote, and numbers as they are', () => {
    // docs/security.md, "CSV exports": =, +, -, @, tab and CR start a formula in Excel, Calc and Sheets.
    expect(csvField('=HYPERLINK("https://evil.test","click")')).toBe('"\'=HYPERLINK(""https://evil.test"",""click"")"')
    expect(csvField("+1+cmd|' /C calc'!A0")).toBe("'+1+cmd|' /C calc'!A0")
    expect(csvField('-2-3')).toBe("'-2-3")
    expect(csvField('@SUM(A1:A9)')).toBe("'@SUM(A1:A9)")
    expect(csvField('\t=1')).toBe("'\t=1")
    expect(csvField('\r=1')).toBe('"\'\r=1"')
    // Only the first character decides; numbers (negative amounts included) stay numbers.
    expect(csvField('a=1')).toBe('a=1')
    expect(csvField('2026-07-20')).toBe('2026-07-20')
    expect(csvField(-500)).toBe('-500')
    expect(csvField(-0.5)).toBe('-0.5')
    expect(toCsv(['name', 'amount'], [{ name: '-x', amount: -500 }])).toBe("name,amount\r\n'-x,-500\r\n")
  })

  it('prefixes hostile names and ids in the usage export, and leaves its meters numeric', async () => {
    const r = parseConfig({
      plans: { growth: { currency: 'EUR', basePrice: 4900 } },
      accounts: {
        acme: {
          name: 'Acme',
          timezone: 'UTC',
          subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12' },
          keys: { secret: 'sk_acme_secret', read: 'rk_acme_read' },
          containers: { '-ctr': { name: '=HYPERLINK("https://evil.test")', domains: ['shop.acme.test'], campaigns: { '-2-3': {} } } },
        },
      },
    })
    if (!r.ok) throw new Error(r.message)
    const s = setup({ config: r.value })
    const res = await s.post(batch([impression('-2-3', '-s1')], s.clock.now()), { container: '-ctr', origin: ORIGIN })
    expect((await res.json()).accepted).toBe(1)
    const day = new Date(s.clock.now()).toISOString().slice(0, 10)
    const csv = await (await get(s, `?from=${day}&to=${day}&groupBy=container,campaign&format=csv`)).text()
    expect(csv).toBe(
      [
        'container,containerName,campaign,impressions,engagements,chatSessions,alerts,credits,suspicious',
        `'-ctr,"'=HYPERLINK(""https://evil.test"")",'-2-3,1,0,0,0,0,0`,
        '',
      ].join('\r\n'),
    )
  })

  it('answers CSV for Accept: text/csv and for format=csv, with names quoted', async () => {
    const s = await seeded()
    const expected = [
      'container,containerName,impressions,engagements,chatSessions,alerts,credits,suspicious',
      'ctr_blog,Blog,1,0,0,0,0,0',
      'ctr_shop,"Shop, ""North""\nbranch",3,2,2,0,0,0',
      '',
    ].join('\r\n')
    for (const res of [
      await get(s, `${RANGE}&groupBy=container`, 'rk_acme_read', { accept: 'text/csv' }),
      await get(s, `${RANGE}&groupBy=container&format=csv`),
    ]) {
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="usage-acme-2026-07-19-2026-07-20.csv"')
      expect(await res.text()).toBe(expected)
    }
  })

  it('prefers format=json over Accept: text/csv', async () => {
    const s = await seeded()
    const res = await get(s, `${RANGE}&format=json`, 'rk_acme_read', { accept: 'text/csv' })
    expect(res.headers.get('content-type')).toContain('application/json')
  })
})
