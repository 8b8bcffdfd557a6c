/**
 * Webhooks from the vendor's side (docs/webhooks.md): a real HTTP receiver on loopback that
 * verifies every signature, fails the first deliveries and is down for a while. The collector
 * runs in-process with a manual clock, so 72 hours of backoff take no real time; the delivery loop
 * is the one `tally serve` runs, driven pass by pass. Each test runs on SQLite and on PostgreSQL.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { parseConfig, type TallyConfig } from '@tally/protocol'
import { ADMIN, setup } from '../apps/collector/src/testkit.js'
import { createWebhookDelivery, type DeliverySettings } from '../apps/collector/src/services/webhooks.js'
import { signWebhook } from '../apps/collector/src/domain/webhook-signature.js'
import type { Resolve } from '../apps/collector/src/domain/webhook-target.js'
import { startReceiver, type Receiver } from './webhook-receiver.js'
import { TEST_ENGINES, type TestEngine } from './pg/engines.js'

const SK = 'sk_acme_secret'
const HOUR = 3_600_000

function hookConfig(allowPrivateNetworks = true): TallyConfig {
  const r = parseConfig({
    // The receiver listens on loopback: private addresses must be allowed (docs/webhooks.md).
    server: { webhooks: { allowPrivateNetworks } },
    plans: {
      growth: {
        currency: 'EUR',
        basePrice: 4900,
        emailsPerContact: 4,
        freeCredits: 500,
        creditCosts: { sms: 2, ai: 10 },
        creditPacks: { small: { credits: 1000, price: 1000 } },
        creditsLowThreshold: 100,
        refusedSpikePerMinute: 3,
      },
    },
    accounts: {
      acme: {
        name: 'Acme',
        timezone: 'Europe/Amsterdam',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', contacts: 1000 },
        keys: { secret: SK, read: 'rk_acme_read' },
        containers: { ctr_shop: { domains: ['shop.acme.test'], campaigns: { cmp_summer: {} } } },
      },
    },
  })
  if (!r.ok) throw new Error(r.message)
  return r.value
}

const receivers: Receiver[] = []
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()))
})

interface OutboxRow {
  seq: number
  id: string
  type: string
  data: string
}

async function harness(engine: TestEngine, settings: Partial<DeliverySettings> = {}) {
  const pg = await engine.open()
  const t = setup({ config: hookConfig(true), ...(pg ? { store: pg } : {}) })
  const rcv = await startReceiver(() => t.clock.now())
  receivers.push(rcv)
  const send = (path: string, body: unknown, key = SK, method = 'POST') =>
    t.app.request(path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) })
  const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
    t.app.request(`/v1/admin/accounts/acme${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    })
  const created = await admin('/webhooks', { method: 'POST', body: { url: rcv.url } })
  expect(created.status).toBe(201)
  rcv.secret = ((await created.json()) as { secret: string }).secret
  const delivery = createWebhookDelivery({
    store: t.store,
    clock: t.clock,
    logger: (await import('pino')).default({ level: 'silent' }),
    settings: { retryBaseMs: 60_000, retryMaxMs: HOUR, attemptTimeoutMs: 2_000, ...settings },
    random: () => 1,
    allowPrivateNetworks: true,
  })
  /** Passes of the loop, the clock moving `stepMs` after each. */
  const drive = async (passes: number, stepMs = 60_000) => {
    for (let i = 0; i < passes; i++) {
      await delivery.runOnce()
      t.clock.advance(stepMs)
    }
  }
  /** The account's outbox as stored, `data` as the JSON text. */
  const outbox = async (): Promise<OutboxRow[]> =>
    pg
      ? (await pg.engine.pool.query<OutboxRow>("SELECT seq::int AS seq, id, type, data::text AS data FROM webhook_events WHERE account = 'acme' ORDER BY seq"))
          .rows
      : (t.store.db.prepare("SELECT seq, id, type, data FROM webhook_events WHERE account = 'acme' ORDER BY seq").all() as OutboxRow[])
  return { ...t, rcv, send, admin, drive, outbox }
}

describe.each(TEST_ENGINES)('webhooks to a receiver that fails, goes down and comes back, on $name', (engine) => {
  it.skipIf(engine.skip)("delivers every event at least once, in the account's order, each signature valid", async () => {
    const h = await harness(engine)
    h.rcv.failNext(2)
    // credits.purchased, then credits.low (1500 - 1410 = 90, under the plan's 100).
    expect((await h.send('/v1/credits/purchase', { pack: 'small', id: 'buy-1' })).status).toBe(200)
    const spent = await (await h.send('/v1/usage', { events: [{ id: 'ai-1', type: 'action', action: 'ai', quantity: 141, ts: h.clock.now() }] })).json()
    expect(spent).toEqual({ results: [{ id: 'ai-1', status: 'accepted', credits: { spent: 1410, balance: 90 } }] })
    // quota.email_reached on the first refusal of the month only.
    const email = (id: string, count: number) => h.send('/v1/usage', { events: [{ id, type: 'email', count, ts: h.clock.now() }] })
    await email('m1', 4001)
    await email('m2', 5000)
    await h.drive(2)
    // Down for a while: the attempts meet a closed port.
    await h.rcv.down()
    // Four refused beacons in a minute, over the plan's 3: usage.refused_spike.
    for (let i = 0; i < 4; i++) {
      const r = await h.app.request('/v1/containers/ctr_shop/events', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: 'https://evil.test' },
        body: '{}',
      })
      expect(r.status).toBe(403)
    }
    await vi.waitFor(async () => expect((await h.outbox()).map((e) => e.type)).toContain('usage.refused_spike'))
    await h.drive(3)
    await h.rcv.up()
    // The month ends: the run finalizes the first invoice and the renewal's.
    h.clock.set(Date.parse('2026-08-12T12:00:00Z'))
    expect((await h.send('/v1/admin/billing/run', {}, ADMIN)).status).toBe(200)
    await h.drive(12)

    const events = await h.outbox()
    expect(events.map((e) => e.type)).toEqual([
      'credits.purchased',
      'credits.low',
      'quota.email_reached',
      'usage.refused_spike',
      // The first month's invoice, the credit pack's, the second month's, and its renewal.
      'invoice.finalized',
      'invoice.finalized',
      'invoice.finalized',
      'subscription.renewed',
    ])
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(events.filter((e) => e.type === 'invoice.finalized').map((e) => (JSON.parse(e.data) as { key: string }).key)).toEqual([
      'recurring:0',
      'credits:purchase:buy-1',
      'recurring:1',
    ])
    // Each at least once, and first accepted in the account's order.
    expect(h.rcv.accepted()).toEqual(events.map((e) => e.id))
    expect(h.rcv.got.every((g) => g.verified)).toBe(true)
    expect(h.rcv.got.filter((g) => g.answered === 500)).toHaveLength(2)
    // The payloads carry what the vendor needs.
    const byType = Object.fromEntries(h.rcv.got.map((g) => [g.type, JSON.parse(g.body) as { account: string; data: unknown }]))
    expect(byType['credits.low']).toMatchObject({ account: 'acme', data: { wallet: 'account', balance: 90, threshold: 100 } })
    expect(byType['quota.email_reached']?.data).toEqual({ month: '2026-07-12', quota: 4000, granted: 0, sent: 0, refused: 4001 })
    expect(byType['usage.refused_spike']?.data).toMatchObject({ refused: 4, threshold: 3 })
    expect(byType['subscription.renewed']?.data).toMatchObject({ period: { index: 1, startDate: '2026-08-12' }, invoice: { key: 'recurring:1' } })

    // The log shows each delivery: the first needed four attempts (two 500s, one closed port, then 200).
    const log = (await (await h.admin('/webhooks/deliveries')).json()) as { deliveries: { event: { id: string }; status: string; attempts: number }[] }
    expect(log.deliveries.map((d) => d.status)).toEqual(Array(8).fill('delivered'))
    expect(log.deliveries.at(-1)).toMatchObject({ event: { id: events[0]?.id }, attempts: 4 })
  })

  it.skipIf(engine.skip)('sends a redelivered event again with the same id, so the receiver can tell the duplicate', async () => {
    const h = await harness(engine)
    await h.send('/v1/credits/purchase', { pack: 'small', id: 'buy-1' })
    await h.drive(1)
    const [event] = await h.outbox()
    const res = await h.admin(`/webhooks/deliveries/${event?.id}/redeliver`, { method: 'POST' })
    expect(res.status).toBe(202)
    await h.drive(1)
    expect(h.rcv.got.map((g) => g.id)).toEqual([event?.id, event?.id])
    expect(h.rcv.accepted()).toEqual([event?.id])
    expect((await h.admin('/webhooks/deliveries/evt_nope/redeliver', { method: 'POST' })).status).toBe(404)
  })

  it.skipIf(engine.skip)('refuses a replayed or tampered delivery at the receiver', async () => {
    const h = await harness(engine)
    await h.send('/v1/credits/purchase', { pack: 'small', id: 'buy-1' })
    await h.drive(1)
    const [first] = h.rcv.got
    if (!first) throw new Error('nothing delivered')
    // Replayed six minutes later, byte for byte: outside the five-minute window.
    h.clock.advance(6 * 60_000)
    expect(await h.rcv.replay(first.body, first.header)).toBe(400)
    // Tampered: more credits, the old signature, or a fresh timestamp without the secret.
    const forged = first.body.replace('"credits":1000', '"credits":9000')
    expect(forged).not.toBe(first.body)
    expect(await h.rcv.replay(forged, first.header)).toBe(400)
    expect(await h.rcv.replay(forged, signWebhook(forged, 'whsec_guessed', h.clock.now()))).toBe(400)
    expect(await h.rcv.replay(first.body, signWebhook(first.body, h.rcv.secret, h.clock.now()))).toBe(200)
  })

  it.skipIf(engine.skip)('holds later events until an earlier one is given up after 72 hours, then sends them', async () => {
    const h = await harness(engine)
    h.rcv.failNext(1e9)
    await h.send('/v1/credits/purchase', { pack: 'small', id: 'p1' })
    await h.drive(70, HOUR)
    await h.send('/v1/credits/purchase', { pack: 'small', id: 'p2' })
    const [p1, p2] = await h.outbox()
    await h.drive(10, HOUR)
    // Only p1 was tried while it was pending; then p2's turn came.
    const order = h.rcv.got.map((g) => g.id)
    const firstP2 = order.indexOf(p2?.id ?? '')
    expect(firstP2).toBeGreaterThan(0)
    expect(order.slice(0, firstP2).every((id) => id === p1?.id)).toBe(true)
    expect(order.slice(firstP2).every((id) => id === p2?.id)).toBe(true)
    expect(order.filter((id) => id === p1?.id).length).toBeGreaterThan(5)
    const log = (await (await h.admin('/webhooks/deliveries')).json()) as { deliveries: { event: { id: string }; status: string; lastStatus: number }[] }
    expect(log.deliveries.find((d) => d.event.id === p1?.id)).toMatchObject({ status: 'failed', lastStatus: 500 })
    h.rcv.failNext(0)
    await h.drive(3, HOUR)
    expect(h.rcv.accepted()).toEqual([p2?.id])
  })
})

interface LogRow {
  event: { id: string }
  status: string
  attempts: number
  nextAttempt: string | null
  lastStatus: number | null
  lastError: string | null
}

describe.each(TEST_ENGINES)('webhooks only to public addresses (docs/webhooks.md), on $name', (engine) => {
  const silent = async () => (await import('pino')).default({ level: 'silent' })
  /** The collector without a delivery loop; `allowPrivateNetworks` is the registration's setting. */
  async function collector(allowPrivateNetworks: boolean) {
    const pg = await engine.open()
    const t = setup({ config: hookConfig(allowPrivateNetworks), ...(pg ? { store: pg } : {}) })
    const rcv = await startReceiver(() => t.clock.now())
    receivers.push(rcv)
    const admin = (path: string, body?: unknown) =>
      t.app.request(`/v1/admin/accounts/acme${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    const register = async (url: string) => {
      const res = await admin('/webhooks', { url })
      expect(res.status).toBe(201)
      rcv.secret = ((await res.json()) as { secret: string }).secret
    }
    const buy = (id: string) =>
      t.app.request('/v1/credits/purchase', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${SK}` },
        body: JSON.stringify({ pack: 'small', id }),
      })
    const log = async () => ((await (await admin('/webhooks/deliveries')).json()) as { deliveries: LogRow[] }).deliveries
    const loop = async (allowPrivateNetworks: boolean, resolve?: Resolve) =>
      createWebhookDelivery({
        store: t.store,
        clock: t.clock,
        logger: await silent(),
        random: () => 1,
        allowPrivateNetworks,
        resolve,
        settings: { retryBaseMs: 60_000, retryMaxMs: HOUR, attemptTimeoutMs: 2_000 },
      })
    return { ...t, rcv, register, buy, log, loop }
  }

  it.skipIf(engine.skip)(
    'refuses a name that resolves to loopback, retries it, and sends to the checked address once private networks are allowed',
    async () => {
      const c = await collector(false)
      // A name that is not an address passes registration; at delivery it resolves to the receiver's
      // loopback address (a name re-pointed after registration: DNS rebinding).
      const url = `http://hooks.acme.test:${new URL(c.rcv.url).port}/hooks`
      await c.register(url)
      const asked: string[] = []
      const resolve: Resolve = async (host) => {
        asked.push(host)
        return [{ address: '127.0.0.1', family: 4 }]
      }
      expect((await c.buy('p1')).status).toBe(200)
      const strict = await c.loop(false, resolve)
      const sent = c.clock.now()
      await strict.runOnce()
      expect(asked).toEqual(['hooks.acme.test'])
      expect(c.rcv.got).toEqual([])
      // Recorded like a failed attempt, with the reason, and retried after the backoff's first wait.
      const refused = 'refused: hooks.acme.test resolves only to addresses that are not public (127.0.0.1)'
      expect(await c.log()).toMatchObject([
        { status: 'pending', attempts: 1, lastStatus: null, lastError: refused, nextAttempt: new Date(sent + 60_000).toISOString() },
      ])
      c.clock.advance(60_000)
      await strict.runOnce()
      expect(c.rcv.got).toEqual([])
      expect(await c.log()).toMatchObject([{ status: 'pending', attempts: 2, lastError: refused }])
      // The operator allows private networks (a restart with the setting): the same resolution is now
      // used, and the connection goes to the address it gave (the system's DNS knows no hooks.acme.test).
      c.clock.advance(120_000)
      await (await c.loop(true, resolve)).runOnce()
      expect(asked).toEqual(['hooks.acme.test', 'hooks.acme.test', 'hooks.acme.test'])
      expect(c.rcv.got.map((g) => g.verified)).toEqual([true])
      expect(await c.log()).toMatchObject([{ status: 'delivered', attempts: 3, lastStatus: 200, lastError: null }])
    },
  )

  it.skipIf(engine.skip)('marks an endpoint written with a private address failed at its first attempt, and goes on to the next event', async () => {
    // Registered while private networks were allowed; sent after a restart without the setting.
    const c = await collector(true)
    await c.register(c.rcv.url)
    expect((await c.buy('p1')).status).toBe(200)
    expect((await c.buy('p2')).status).toBe(200)
    const strict = await c.loop(false)
    await strict.runOnce()
    await strict.runOnce()
    expect(c.rcv.got).toEqual([])
    const log = await c.log()
    expect(log.map((d) => ({ status: d.status, attempts: d.attempts, lastStatus: d.lastStatus, lastError: d.lastError }))).toEqual(
      Array(2).fill({ status: 'failed', attempts: 1, lastStatus: null, lastError: 'refused: 127.0.0.1 is not a public address' }),
    )
  })

  it.skipIf(engine.skip)('does not follow a redirect: a 3xx is a failed attempt, and its target gets nothing', async () => {
    const c = await collector(true)
    const redirector = createServer((_req, res) => res.writeHead(307, { location: c.rcv.url }).end())
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r))
    try {
      await c.register(`http://127.0.0.1:${(redirector.address() as AddressInfo).port}/hooks`)
      expect((await c.buy('p1')).status).toBe(200)
      await (await c.loop(true)).runOnce()
      expect(c.rcv.got).toEqual([])
      expect(await c.log()).toMatchObject([{ status: 'pending', attempts: 1, lastStatus: 307, lastError: 'HTTP 307' }])
    } finally {
      redirector.closeAllConnections()
      await new Promise((r) => redirector.close(r))
    }
  })
})
