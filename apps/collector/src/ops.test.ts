import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN, ORIGIN, batch, impression, setup, testConfig } from './testkit.js'
import { openSqliteStore } from './storage.js'
import { ConfigError, loadConfigFile } from './domain/config.js'
import { createApp } from './app.js'
import { openConfig } from './services/config.js'

const dir = mkdtempSync(join(tmpdir(), 'tally-ops-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('health and metrics', () => {
  it('answers /healthz and /readyz while the database answers', async () => {
    const { app } = setup()
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok' })
    expect(await (await app.request('/readyz')).json()).toEqual({ status: 'ready' })
  })

  it('answers /readyz with 503 when the database is gone', async () => {
    const { app, store } = setup()
    await store.close()
    const res = await app.request('/readyz')
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } })
  })

  it('counts requests, events by result and reason, and latency', async () => {
    const { app, post } = setup()
    await post(batch([impression('cmp_summer', 's_1', 'm1'), impression('cmp_summer', 's_1', 'm1'), impression('cmp_nope')]))
    const text = await (await app.request('/metrics')).text()
    expect(text).toContain('tally_events_total{result="accepted",reason=""} 1')
    expect(text).toContain('tally_events_total{result="duplicate",reason=""} 1')
    expect(text).toContain('tally_events_total{result="rejected",reason="unknown_campaign"} 1')
    expect(text).toContain('tally_http_requests_total{route="/v1/containers/:container/events",status="200"} 1')
    expect(text).toMatch(/tally_http_request_duration_seconds_count\{route="\/v1\/containers\/:container\/events"\} 1/)
  })

  it('answers an unknown route with a 404 error body', async () => {
    const { app } = setup()
    const res = await app.request('/nope')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } })
  })
})

describe('configuration', () => {
  const write = (name: string, content: string) => {
    const p = join(dir, name)
    writeFileSync(p, content)
    return p
  }

  it.each([
    ['not JSON', '{', /not valid JSON/],
    [
      'a bad cycle',
      JSON.stringify({
        plans: { p: { currency: 'EUR', basePrice: 1 } },
        accounts: { a: { subscription: { plan: 'p', cycle: 'weekly', start: '2026-01-01' }, keys: { secret: 'sk_12345678', read: 'rk_12345678' } } },
      }),
      /accounts\.a\.subscription\.cycle/,
    ],
    [
      'an unknown plan',
      JSON.stringify({
        plans: {},
        accounts: { a: { subscription: { plan: 'p', cycle: 'monthly', start: '2026-01-01' }, keys: { secret: 'sk_12345678', read: 'rk_12345678' } } },
      }),
      /accounts\.a\.subscription\.plan: unknown plan "p"/,
    ],
    [
      'a container id used by two accounts',
      JSON.stringify({
        plans: { p: { currency: 'EUR', basePrice: 1 } },
        accounts: Object.fromEntries(
          ['a', 'b'].map((id) => [
            id,
            {
              subscription: { plan: 'p', cycle: 'monthly', start: '2026-01-01' },
              keys: { secret: `sk_${id}2345678`, read: `rk_${id}2345678` },
              containers: { ctr_x: { domains: ['x.test'] } },
            },
          ]),
        ),
      }),
      /accounts\.b\.containers\.ctr_x: container id already used by account "a"/,
    ],
    [
      "a key shared by two accounts (one account's key would read the other's data)",
      JSON.stringify({
        plans: { p: { currency: 'EUR', basePrice: 1 } },
        accounts: Object.fromEntries(
          ['a', 'b'].map((id) => [
            id,
            { subscription: { plan: 'p', cycle: 'monthly', start: '2026-01-01' }, keys: { secret: `sk_${id}2345678`, read: 'rk_shared_1' } },
          ]),
        ),
      }),
      /accounts\.b\.keys\.read: key already used by account "a"/,
    ],
    [
      'an account whose read key is its secret key',
      JSON.stringify({
        plans: { p: { currency: 'EUR', basePrice: 1 } },
        accounts: { a: { subscription: { plan: 'p', cycle: 'monthly', start: '2026-01-01' }, keys: { secret: 'k_same_12', read: 'k_same_12' } } },
      }),
      /accounts\.a\.keys\.read: key already used by account "a"/,
    ],
  ])('refuses a config file with %s, naming the file and the bad path', (_n, text, message) => {
    const p = write(`bad-${Math.random()}.json`, text)
    expect(() => loadConfigFile(p)).toThrow(ConfigError)
    expect(() => loadConfigFile(p)).toThrow(new RegExp(`${p.replace(/[.]/g, '\\.')}: ${message.source}`))
  })

  it('loads the demo config', () => {
    const cfg = loadConfigFile(new URL('../../../examples/demo.config.json', import.meta.url).pathname)
    expect(Object.keys(cfg.accounts)).toContain('demo')
  })

  const put = (app: ReturnType<typeof setup>['app'], path: string, body: unknown, token = ADMIN) =>
    app.request(path, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })

  it('refuses admin changes without the admin token', async () => {
    const { app } = setup()
    const res = await put(app, '/v1/admin/containers/ctr_new', { account: 'acme', domains: ['new.test'] }, 'wrong')
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } })
  })

  it.each([
    ['a container without domains', '/v1/admin/containers/ctr_new', { account: 'acme' }, 400, 'invalid_request'],
    ['a new container without its account', '/v1/admin/containers/ctr_new', { domains: ['x.test'] }, 400, 'invalid_request'],
    ['a container moved to another account', '/v1/admin/containers/ctr_shop', { account: 'dormant', domains: ['x.test'] }, 409, 'conflict'],
    [
      'an account on an unknown plan',
      '/v1/admin/accounts/newco',
      { subscription: { plan: 'nope', cycle: 'monthly', start: '2026-01-01' }, keys: { secret: 'sk_newco_1', read: 'rk_newco_1' } },
      400,
      'invalid_request',
    ],
    [
      "an account given another account's key",
      '/v1/admin/accounts/newco',
      { subscription: { plan: 'growth', cycle: 'monthly', start: '2026-01-01' }, keys: { secret: 'sk_newco_1', read: 'rk_acme_read' } },
      409,
      'conflict',
    ],
  ])('refuses %s', async (_n, path, body, status, code) => {
    const { app } = setup()
    const res = await put(app, path, body)
    expect(res.status).toBe(status)
    expect(await res.json()).toEqual({ error: { code, message: expect.any(String) } })
  })

  it('applies admin changes at once and keeps them after a restart', async () => {
    const file = join(dir, 'admin.db')
    const first = setup({ store: openSqliteStore({ file }) })
    const newOrigin = 'https://new.acme.example'
    expect((await first.post(batch([impression()]), { container: 'ctr_new', origin: newOrigin })).status).toBe(403)
    const created = await put(first.app, '/v1/admin/containers/ctr_new', { account: 'acme', domains: ['new.acme.example'], campaigns: { cmp_new: {} } })
    expect(created.status).toBe(200)
    expect((await first.post(batch([impression('cmp_new')]), { container: 'ctr_new', origin: newOrigin })).status).toBe(200)
    const paused = await put(first.app, '/v1/admin/accounts/acme', { ...testConfig().accounts.acme, containers: undefined, active: false })
    expect(paused.status).toBe(200)
    expect((await first.post(batch([impression()]))).status).toBe(403)
    await first.store.close()

    // A restart: the config file again, whose unchanged objects leave the database's versions as they are.
    const store = openSqliteStore({ file })
    const state = await openConfig(store, testConfig())
    const app = createApp({ store, config: state })
    const req = (container: string, origin: string, campaign: string) =>
      app.request(`/v1/containers/${container}/events`, { method: 'POST', headers: { origin }, body: JSON.stringify(batch([impression(campaign, 's_after')])) })
    expect((await req('ctr_shop', ORIGIN, 'cmp_summer')).status).toBe(403)
    expect(state.container('ctr_new')?.accountId).toBe('acme')
    expect(state.account('acme')?.active).toBe(false)
    await store.close()
  })
})

describe('webhook timing from the environment', () => {
  it('reads the TALLY_WEBHOOK_* milliseconds it is given and leaves the rest to the defaults', async () => {
    const { webhookSettings } = await import('./server.js')
    expect(webhookSettings({})).toEqual({})
    expect(webhookSettings({ TALLY_WEBHOOK_RETRY_BASE_MS: '100', TALLY_WEBHOOK_POLL_MS: '50', TALLY_WEBHOOK_TIMEOUT_MS: '' })).toEqual({
      retryBaseMs: 100,
      pollMs: 50,
    })
  })

  it.each(['0', '-5', '1.5', 'soon', '1e3'])('refuses %j at start rather than deliver on a guess', async (v) => {
    const { webhookSettings } = await import('./server.js')
    expect(() => webhookSettings({ TALLY_WEBHOOK_GIVE_UP_MS: v })).toThrow(ConfigError)
  })
})
