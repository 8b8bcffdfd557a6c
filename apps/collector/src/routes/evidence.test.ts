/**
 * GET /v1/invoices/{number}/evidence (docs/protocol.md §5, docs/evidence.md) against the in-process
 * app: formats, the rows of each kind of line, keys and refusals.
 */
import { describe, expect, it } from 'vitest'
import { parseConfig, type TallyConfig } from '@tally/protocol'
import fc from 'fast-check'
import { ADMIN, NOW, batch, chat, impression, parseCsv, setup } from '../testkit.js'
import { isoWriter, rowWriter } from '../domain/evidence-csv.js'
import { EVIDENCE_COLUMNS, type EvidenceRow } from '../services/evidence.js'
import type { Store } from '../services/store.js'
import { TEST_ENGINES } from '../../../../test/pg/engines.js'

const RK = 'rk_acme_read'

/** Acme on a plan with tiny quotas, so a handful of units makes usage lines. UTC keeps the dates readable. */
function config(): TallyConfig {
  const r = parseConfig({
    plans: {
      tiny: {
        currency: 'EUR',
        basePrice: 4900,
        seatPrice: 1500,
        included: { impressions: 2, chatSessions: 0 },
        overage: { impressions: { per: 2, price: 40 }, chatSessions: { per: 1, price: 12 } },
        freeCredits: 100,
        creditCosts: { sms: 2 },
      },
    },
    accounts: {
      acme: {
        name: 'Acme',
        timezone: 'UTC',
        subscription: { plan: 'tiny', cycle: 'monthly', start: '2026-07-12', seats: 2 },
        keys: { secret: 'sk_acme_secret', read: RK },
        containers: { ctr_shop: { domains: ['shop.acme.test'], campaigns: { cmp_a: {}, cmp_b: {} }, bots: { bot_help: {} } } },
      },
      other: {
        timezone: 'UTC',
        subscription: { plan: 'tiny', cycle: 'monthly', start: '2026-07-12' },
        keys: { secret: 'sk_other_secret', read: 'rk_other_read' },
      },
    },
  })
  if (!r.ok) throw new Error(r.message)
  return r.value
}

/** Five impressions (one a duplicate unit) and a 20-minute conversation in the first period, then the billing run at its end. */
async function billed(store?: Store, sid = (s: string) => s) {
  const t = setup({ config: config(), ...(store ? { store } : {}) })
  const beacon = (events: unknown[], sentAt = NOW) => t.post(batch(events, sentAt), { origin: 'https://shop.acme.test' })
  expect(
    (
      await beacon([
        impression('cmp_a', sid('s1'), 'i1'),
        impression('cmp_a', sid('s1'), 'i2'),
        impression('cmp_b', sid('s1'), 'i3'),
        impression('cmp_a', sid('s2'), 'i4'),
        impression('cmp_a', sid('s3'), 'i5'),
      ])
    ).status,
  ).toBe(200)
  expect((await beacon([chat('start', NOW, 'conv_1', 'bot_help', 'c1')])).status).toBe(200)
  // A credit-consuming action: no line bills it in money, the evidence lists it as line 0.
  expect(
    (
      await t.app.request('/v1/usage', {
        method: 'POST',
        headers: { authorization: 'Bearer sk_acme_secret', 'content-type': 'application/json' },
        body: JSON.stringify({ events: [{ id: 'act1', type: 'action', action: 'sms', quantity: 2, ts: NOW }] }),
      })
    ).status,
  ).toBe(200)
  t.clock.set(NOW + 20 * 60_000)
  expect((await beacon([chat('end', NOW + 20 * 60_000, 'conv_1', 'bot_help', 'c2')], NOW + 20 * 60_000)).status).toBe(200)
  const end = Date.parse('2026-08-12T00:00:00Z')
  t.clock.set(end)
  expect(
    (
      await t.app.request('/v1/admin/billing/run', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ asOf: '2026-08-12T00:00:00Z' }),
      })
    ).status,
  ).toBe(200)
  const get = (path: string, headers: Record<string, string> = {}, key: string | null = RK) =>
    t.app.request(path, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } })
  return { ...t, get }
}

const lines = (csv: string) =>
  csv
    .trimEnd()
    .split('\r\n')
    .map((l) => l.split(','))

// Each engine pages the units by keyset its own way: the same rows must come out of both.
describe.each(TEST_ENGINES)('GET /v1/invoices/{number}/evidence on $name', ({ skip, open }) => {
  it.skipIf(skip)('lists a charge row per recurring line and every unit behind a usage line, with the blocks they make', async () => {
    const b = await billed(await open())
    const invoices = (await (await b.get('/v1/invoices')).json()) as { invoices: { number: number; key: string }[] }
    expect(invoices.invoices.map((i) => i.key)).toEqual(['recurring:0', 'recurring:1'])

    const first = await b.get('/v1/invoices/1/evidence')
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(first.headers.get('content-disposition')).toBe('attachment; filename="evidence-acme-1.csv"')
    const [head, ...rows] = lines(await first.text())
    expect(head?.slice(0, 4)).toEqual(['line', 'lineKind', 'meter', 'record'])
    expect(rows.map((r) => r.slice(0, 4).concat(r[13] ?? ''))).toEqual([
      ['1', 'base', '', 'charge', '1'],
      ['2', 'seats', '', 'charge', '2'],
    ])

    // The second invoice: fees of period 2 in advance, usage of period 1 in arrears.
    const jsonl = await b.get('/v1/invoices/2/evidence.jsonl')
    expect(jsonl.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8')
    const records = (await jsonl.text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const impressions = records.filter((r) => r.meter === 'impressions')
    expect(impressions.map((r) => [r.record, r.id, r.session, r.subject, r.quantity])).toEqual([
      ['impression', 'i1', 's1', 'cmp_a', 1],
      ['impression', 'i3', 's1', 'cmp_b', 1],
      ['impression', 'i4', 's2', 'cmp_a', 1],
      ['impression', 'i5', 's3', 'cmp_a', 1],
      ['summary', undefined, undefined, undefined, undefined],
    ])
    expect(impressions[0]).toMatchObject({ lineKind: 'usage', container: 'ctr_shop', time: new Date(NOW).toISOString() })
    // 4 units, 2 included, per 2: one block, the line's quantity.
    expect(impressions[4]).toMatchObject({ used: 4, included: 2, per: 2, blocks: 1 })
    const inv = (await (await b.get('/v1/invoices/2.json')).json()) as { lines: { kind: string; meter?: string; quantity: number }[] }
    const at = inv.lines.findIndex((l) => l.meter === 'impressions')
    expect(impressions.every((r) => r.line === at + 1)).toBe(true)
    expect(inv.lines[at]?.quantity).toBe(1)

    // A 20-minute conversation: 2 chat sessions, each one block of 1.
    const chats = records.filter((r) => r.meter === 'chatSessions')
    expect(chats.map((r) => [r.record, r.id, r.subject, r.botMs, r.quantity, r.blocks])).toEqual([
      ['chat', 'conv_1', 'bot_help', 1_200_000, 2, undefined],
      ['summary', undefined, undefined, undefined, undefined, 2],
    ])
    expect(chats[0]).toMatchObject({ time: new Date(NOW).toISOString(), end: new Date(NOW + 1_200_000).toISOString() })
    // The closed period's actions, paid in credits, not in money.
    expect(records.filter((r) => r.line === 0)).toEqual([
      { line: 0, record: 'action', id: 'act1', subject: 'sms', time: new Date(NOW).toISOString(), quantity: 2, credits: 4 },
    ])
  })

  it.skipIf(skip)('answers CSV by default and for text/csv, JSON lines for application/x-ndjson, the same rows', async () => {
    const b = await billed(await open())
    const csv = await (await b.get('/v1/invoices/2/evidence', { accept: 'text/csv' })).text()
    const viaExt = await (await b.get('/v1/invoices/2/evidence.csv')).text()
    expect(csv).toBe(viaExt)
    const nd = await b.get('/v1/invoices/2/evidence', { accept: 'application/x-ndjson' })
    expect(nd.headers.get('content-type')).toContain('application/x-ndjson')
    expect((await nd.text()).trimEnd().split('\n').length).toBe(lines(csv).length - 1)
  })

  it.skipIf(skip)("is the same under the admin path, and no key reads another account's invoices", async () => {
    const b = await billed(await open())
    const own = await (await b.get('/v1/invoices/2/evidence')).text()
    expect(await (await b.get('/v1/admin/accounts/acme/invoices/2/evidence', {}, ADMIN)).text()).toBe(own)
    expect((await b.get('/v1/invoices/2/evidence', {}, null)).status).toBe(401)
    // The other account's invoice 2 is its own: its fees, none of acme's units.
    const other = await (await b.get('/v1/invoices/2/evidence', {}, 'rk_other_read')).text()
    expect([
      ...new Set(
        lines(other)
          .slice(1)
          .map((r) => r[3]),
      ),
    ]).toEqual(['charge'])
    expect(other).not.toContain('ctr_shop')
    expect((await b.get('/v1/invoices/3/evidence', {}, 'rk_other_read')).status).toBe(404)
    expect((await b.get('/v1/admin/accounts/acme/invoices/2/evidence', {}, RK)).status).toBe(401)
  })

  it.skipIf(skip)('refuses an unknown invoice or file with 404 and a code', async () => {
    const b = await billed(await open())
    for (const path of ['/v1/invoices/9/evidence', '/v1/invoices/x/evidence', '/v1/invoices/1/evidence.exe', '/v1/invoices/1/proof']) {
      const res = await b.get(path)
      expect(res.status, path).toBe(404)
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe('not_found')
    }
  })
})

describe('the instants of an export', () => {
  it('are written as Date#toISOString writes them, in any order', () => {
    const iso = isoWriter()
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }), { maxLength: 50 }), (times) => {
        for (const t of [...times, ...times.map((x) => x + 1)]) expect(iso(t)).toBe(new Date(t).toISOString())
      }),
    )
  })
})

describe('evidence in a spreadsheet', () => {
  it('writes ids a forger chose with a leading quote, and its numbers as numbers: the units still add up to the line', async () => {
    // A session id is the page's to choose (docs/security.md): "-2-3" would be the formula -5.
    const b = await billed(undefined, (s) => `-2-${s.slice(1)}`)
    const [head, ...rows] = parseCsv(await (await b.get('/v1/invoices/2/evidence')).text())
    const col = (r: string[], c: (typeof EVIDENCE_COLUMNS)[number]) => r[head?.indexOf(c) ?? -1] ?? ''
    const imp = rows.filter((r) => col(r, 'meter') === 'impressions')
    expect(imp.filter((r) => col(r, 'record') === 'impression').map((r) => col(r, 'session'))).toEqual(["'-2-1", "'-2-1", "'-2-2", "'-2-3"])
    const units = imp.filter((r) => col(r, 'record') !== 'summary')
    const summary = imp.find((r) => col(r, 'record') === 'summary')
    // docs/evidence.md: sum(quantity of the line's unit rows) = used, every numeric cell a plain number.
    for (const r of imp) for (const c of ['line', 'quantity', 'used', 'included', 'per', 'blocks'] as const) expect(col(r, c)).toMatch(/^(-?\d+)?$/)
    expect(units.reduce((n, r) => n + Number(col(r, 'quantity')), 0)).toBe(Number(summary && col(summary, 'used')))
    expect(summary && col(summary, 'used')).toBe('4')
    // JSON lines are not opened by a spreadsheet: the same ids, verbatim.
    const jsonl = (await (await b.get('/v1/invoices/2/evidence.jsonl')).text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(jsonl.filter((r) => r.record === 'impression').map((r) => r.session)).toEqual(['-2-1', '-2-1', '-2-2', '-2-3'])
  })
})

describe('the evidence writer', () => {
  it('writes every field in its column, quoted when it must be, and the same keys as JSON lines', () => {
    const times = new Set(['time', 'end', 'receivedFirst', 'receivedLast'])
    const full = Object.fromEntries(EVIDENCE_COLUMNS.map((c, i) => [c, times.has(c) ? NOW + i : i]))
    const row = {
      ...full,
      lineKind: 'usage',
      meter: 'impressions',
      record: 'impression',
      id: 'e"1',
      container: 'ctr,a',
      session: 's1',
      subject: 'cmp',
      member: 'alice',
      note: 'a, b',
    } as unknown as EvidenceRow
    const want = (c: (typeof EVIDENCE_COLUMNS)[number]) => {
      const v = (row as unknown as Record<string, string | number>)[c] as string | number
      return times.has(c) ? new Date(v as number).toISOString() : String(v)
    }
    const csv = rowWriter('csv')([row])
    expect(csv).toBe(
      `${EVIDENCE_COLUMNS.map((c) => {
        const v = want(c)
        return /[",]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v
      }).join(',')}\r\n`,
    )
    expect(JSON.parse(rowWriter('jsonl')([row]))).toEqual(
      Object.fromEntries(EVIDENCE_COLUMNS.map((c) => [c, times.has(c) ? want(c) : (row as unknown as Record<string, unknown>)[c]])),
    )
    expect(rowWriter('csv')([{ line: 1, record: 'charge' }])).toBe(`1,,,charge${','.repeat(EVIDENCE_COLUMNS.length - 4)}\r\n`)
  })

  it('prefixes every text column that a spreadsheet would run as a formula, and no number', () => {
    const hostile = {
      line: 0,
      record: 'action',
      id: '-1',
      container: '=1+1',
      session: '+1',
      subject: '@SUM(A1)',
      member: '\t=1',
      note: '=HYPERLINK("x")',
      quantity: 2,
      credits: 4,
    } as EvidenceRow
    const cells = parseCsv(rowWriter('csv')([hostile]))[0] ?? []
    const at = (c: (typeof EVIDENCE_COLUMNS)[number]) => cells[EVIDENCE_COLUMNS.indexOf(c)]
    expect([at('id'), at('container'), at('session'), at('subject'), at('member'), at('note')]).toEqual([
      "'-1",
      "'=1+1",
      "'+1",
      "'@SUM(A1)",
      "'\t=1",
      `'=HYPERLINK("x")`,
    ])
    expect([at('line'), at('record'), at('quantity'), at('credits')]).toEqual(['0', 'action', '2', '4'])
  })
})
