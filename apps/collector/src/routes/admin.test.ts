/**
 * The admin API reads what it writes (docs/protocol.md §6): lists and reads of the accounts and
 * containers in force, and PATCH as a JSON merge patch (RFC 7396) that keeps what it leaves out
 * and survives a restart like a PUT.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN, batch, impression, setup, testConfig } from '../testkit.js'
import { openSqliteStore } from '../storage.js'
import { createConfigState } from '../domain/config.js'
import { openConfig } from '../services/config.js'

const dir = mkdtempSync(join(tmpdir(), 'tally-admin-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

type App = ReturnType<typeof setup>['app']
const call = (app: App, method: string, path: string, body?: unknown, token = ADMIN) =>
  app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })

describe('admin reads', () => {
  it('lists every account with its name, state, plan, zone and containers', async () => {
    const { app } = setup()
    const res = await call(app, 'GET', '/v1/admin/accounts')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      accounts: [
        { id: 'acme', name: 'Acme', active: true, plan: 'growth', timezone: 'Europe/Amsterdam', containers: ['ctr_shop', 'ctr_origins'] },
        { id: 'dormant', name: '', active: false, plan: 'growth', timezone: 'UTC', containers: ['ctr_dormant'] },
      ],
    })
  })

  it('reads an account and a container as they are in force', async () => {
    const { app } = setup()
    const account = (await (await call(app, 'GET', '/v1/admin/accounts/acme')).json()) as { id: string; account: { keys: unknown } }
    expect(account).toEqual({ id: 'acme', account: testConfig().accounts.acme })
    const container = await (await call(app, 'GET', '/v1/admin/containers/ctr_shop')).json()
    expect(container).toEqual({ id: 'ctr_shop', account: 'acme', container: testConfig().accounts.acme?.containers.ctr_shop })
  })

  it.each([
    ['no token', 'GET', '/v1/admin/accounts', undefined, 'wrong', 401, 'unauthorized'],
    ['no token on a read', 'GET', '/v1/admin/accounts/acme', undefined, 'wrong', 401, 'unauthorized'],
    ['an unknown account', 'GET', '/v1/admin/accounts/nobody', undefined, ADMIN, 404, 'not_found'],
    ['an unknown container', 'GET', '/v1/admin/containers/ctr_nope', undefined, ADMIN, 404, 'not_found'],
    ['a patch of an unknown account', 'PATCH', '/v1/admin/accounts/nobody', { name: 'x' }, ADMIN, 404, 'not_found'],
    ['a patch of an unknown container', 'PATCH', '/v1/admin/containers/ctr_nope', { name: 'x' }, ADMIN, 404, 'not_found'],
    ['an account id with a line break', 'GET', '/v1/admin/accounts/a%0D%0Ab', undefined, ADMIN, 400, 'invalid_request'],
    [
      'a line break in the account id of a CSV export',
      'GET',
      '/v1/admin/accounts/a%0D%0AX-Injected:%201/invoices/1.csv',
      undefined,
      ADMIN,
      400,
      'invalid_request',
    ],
    ['a line break in the account id of a usage read', 'GET', '/v1/admin/accounts/a%0Ab/usage?format=csv', undefined, ADMIN, 400, 'invalid_request'],
    ['a container id with a line break', 'GET', '/v1/admin/containers/c%0D%0A', undefined, ADMIN, 400, 'invalid_request'],
    [
      'a new account with a line break in its id',
      'PUT',
      '/v1/admin/accounts/evil%0D%0AX-Injected:%201',
      { subscription: { plan: 'growth', cycle: 'monthly', start: '2026-01-01' }, keys: { secret: 'sk_evil_secret', read: 'rk_evil_read' } },
      ADMIN,
      400,
      'invalid_request',
    ],
    [
      'a new container with a line break in its id',
      'PUT',
      '/v1/admin/containers/c%0A',
      { account: 'acme', domains: ['x.test'] },
      ADMIN,
      400,
      'invalid_request',
    ],
    ['an id of a built-in property', 'PUT', '/v1/admin/containers/constructor', { account: 'acme', domains: ['x.test'] }, ADMIN, 400, 'invalid_request'],
    ['a patch that is not an object', 'PATCH', '/v1/admin/containers/ctr_shop', ['x.test'], ADMIN, 400, 'invalid_request'],
    ['a patch that is not JSON', 'PATCH', '/v1/admin/containers/ctr_shop', '{', ADMIN, 400, 'invalid_json'],
    ['a patch that removes a required field', 'PATCH', '/v1/admin/containers/ctr_shop', { domains: null }, ADMIN, 400, 'invalid_request'],
    ['a patch that moves a container', 'PATCH', '/v1/admin/containers/ctr_shop', { account: 'dormant' }, ADMIN, 409, 'conflict'],
    ["a patch that takes another account's key", 'PATCH', '/v1/admin/accounts/acme', { keys: { read: 'rk_dormant_read' } }, ADMIN, 409, 'conflict'],
  ])('refuses %s', async (_, method, path, body, token, status, code) => {
    const { app, store } = setup()
    const before = await store.configHead()
    const res = await call(app, method, path, body, token)
    expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([status, code])
    expect(await store.configHead()).toBe(before)
  })
})

describe('admin PATCH', () => {
  it('adds a domain with the full list and keeps the name, campaigns and advisors', async () => {
    const { app, post } = setup()
    const res = await call(app, 'PATCH', '/v1/admin/containers/ctr_shop', { domains: ['shop.acme.test', '*.acme.test', 'new.example'] })
    expect(res.status).toBe(200)
    const { container } = (await res.json()) as { container: Record<string, unknown> }
    const before = testConfig().accounts.acme?.containers.ctr_shop
    expect(container).toEqual({ ...before, domains: ['shop.acme.test', '*.acme.test', 'new.example'] })
    expect((await post(batch([impression('cmp_summer')]), { origin: 'https://new.example' })).status).toBe(200)
  })

  it('merges nested objects: names a campaign, pauses an advisor, removes a bot with null', async () => {
    const { app } = setup()
    const res = await call(app, 'PATCH', '/v1/admin/containers/ctr_shop', {
      campaigns: { cmp_summer: { name: 'Summer sale' } },
      advisors: { adv_shoes: { active: false } },
      bots: { bot_off: null },
    })
    const { container } = (await res.json()) as { container: { campaigns: unknown; advisors: unknown; bots: unknown } }
    expect(container.campaigns).toEqual({ cmp_summer: { active: true, name: 'Summer sale' }, cmp_winter: { active: true }, cmp_old: { active: false } })
    expect(container.advisors).toEqual({ adv_shoes: { active: false }, adv_old: { active: false } })
    expect(container.bots).toEqual({ bot_help: { active: true } })
  })

  it('patches an account and keeps its containers and the fields it leaves out', async () => {
    const { app } = setup()
    const res = await call(app, 'PATCH', '/v1/admin/accounts/acme', { name: 'Acme B.V.', subscription: { seats: 4 } })
    expect(res.status).toBe(200)
    const { account } = (await res.json()) as { account: Record<string, unknown> }
    const before = testConfig().accounts.acme!
    expect(account).toEqual({ ...before, name: 'Acme B.V.', subscription: { ...before.subscription, seats: 4 } })
  })

  it('keeps a PATCH after a restart, as a PUT', async () => {
    const file = join(dir, 'patch.db')
    const first = setup({ store: openSqliteStore({ file }) })
    expect((await call(first.app, 'PATCH', '/v1/admin/containers/ctr_shop', { campaigns: { cmp_summer: { name: 'Summer sale' } } })).status).toBe(200)
    expect((await call(first.app, 'PATCH', '/v1/admin/accounts/acme', { name: 'Acme B.V.' })).status).toBe(200)
    await first.store.close()

    const store = openSqliteStore({ file })
    const state = await openConfig(store, testConfig())
    expect(state.account('acme')?.name).toBe('Acme B.V.')
    expect(state.container('ctr_shop')?.container.campaigns.cmp_summer).toEqual({ active: true, name: 'Summer sale' })
    expect(Object.keys(state.account('acme')?.containers ?? {})).toEqual(['ctr_shop', 'ctr_origins'])
    await store.close()
  })
})

describe('a container id names one account for good', () => {
  it('refuses to give a container removed from one account to another, by PUT of either kind', async () => {
    const { app, store } = setup()
    // acme's visitors were counted under ctr_origins.
    const beacon = await app.request('/v1/containers/ctr_origins/events', {
      method: 'POST',
      headers: { origin: 'https://example.com', 'content-type': 'text/plain' },
      body: JSON.stringify(batch([impression('cmp_a', 's1')])),
    })
    expect(await beacon.json()).toMatchObject({ accepted: 1 })
    const acme = testConfig().accounts.acme!
    const { ctr_origins: origins, ...rest } = acme.containers
    expect((await call(app, 'PUT', '/v1/admin/accounts/acme', { ...acme, containers: rest })).status).toBe(200)

    const asContainer = await call(app, 'PUT', '/v1/admin/containers/ctr_origins', { ...origins, account: 'dormant' })
    expect(asContainer.status).toBe(409)
    expect(await asContainer.json()).toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('belonged to account "acme"') } })
    const dormant = testConfig().accounts.dormant!
    const asAccount = await call(app, 'PUT', '/v1/admin/accounts/dormant', { ...dormant, containers: { ...dormant.containers, ctr_origins: origins } })
    expect(asAccount.status).toBe(409)
    expect((await call(app, 'GET', '/v1/admin/containers/ctr_origins')).status).toBe(404)

    // Its own account may take it back.
    expect((await call(app, 'PUT', '/v1/admin/containers/ctr_origins', { ...origins, account: 'acme' })).status).toBe(200)
    await store.close()
  })

  it('replays a move saved before the rule as it was', async () => {
    const state = createConfigState(testConfig())
    const acme = testConfig().accounts.acme!
    const { ctr_origins: origins, ...rest } = acme.containers
    const skipped: string[] = []
    state.replay(
      [
        { kind: 'account', id: 'acme', body: { ...acme, containers: rest } },
        { kind: 'container', id: 'ctr_origins', body: { ...origins, account: 'dormant' } },
      ],
      (ch) => skipped.push(ch.id),
    )
    expect(skipped).toEqual([])
    expect(state.container('ctr_origins')?.accountId).toBe('dormant')
  })
})

describe('admin bodies with a key the configuration does not know', () => {
  it.each([
    [
      'PUT',
      '/v1/admin/containers/ctr_new',
      { account: 'acme', domains: ['new.test'], campaign: { cmp_a: {} } },
      'campaign: unknown key; did you mean "campaigns"?',
    ],
    ['PUT', '/v1/admin/accounts/acme', { ...testConfig().accounts.acme, containers: undefined, activ: false }, 'activ: unknown key; did you mean "active"?'],
    [
      'PUT',
      '/v1/admin/accounts/acme',
      { ...testConfig().accounts.acme, containers: undefined, subscription: { ...testConfig().accounts.acme!.subscription, seat: 4 } },
      'subscription.seat: unknown key; did you mean "seats"?',
    ],
    ['PATCH', '/v1/admin/accounts/acme', { subscription: { seat: 4 } }, 'subscription.seat: unknown key; did you mean "seats"?'],
    [
      'PATCH',
      '/v1/admin/accounts/acme',
      { containers: { ctr_shop: { domain: ['x.test'] } } },
      'containers.ctr_shop.domain: unknown key; did you mean "domains"?',
    ],
    [
      'PATCH',
      '/v1/admin/containers/ctr_shop',
      { campaigns: { cmp_summer: { actve: false } } },
      'campaigns.cmp_summer.actve: unknown key; did you mean "active"?',
    ],
  ])('refuses a %s of %s with 400 invalid_request naming the key, and changes nothing', async (method, path, body, expected) => {
    const { app, store } = setup()
    const before = await (await call(app, 'GET', '/v1/admin/accounts/acme')).json()
    const res = await call(app, method, path, body)
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: { code: 'invalid_request', message: expected } })
    expect(await (await call(app, 'GET', '/v1/admin/accounts/acme')).json()).toEqual(before)
    expect(await store.configHead()).toBe(0)
    await store.close()
  })

  it('replays a change saved before unknown keys were refused as it was applied: without them', () => {
    const state = createConfigState(testConfig())
    const acme = testConfig().accounts.acme!
    const skipped: string[] = []
    state.replay(
      [
        { kind: 'account', id: 'acme', body: { ...acme, containers: undefined, nmae: 'typo', name: 'Acme B.V.' } },
        { kind: 'container', id: 'ctr_shop', body: { ...acme.containers.ctr_shop, account: 'acme', domains: ['moved.test'], domain: ['x.test'] } },
      ],
      (ch) => skipped.push(ch.id),
    )
    expect(skipped).toEqual([])
    expect(state.account('acme')?.name).toBe('Acme B.V.')
    expect(state.container('ctr_shop')?.container.domains).toEqual(['moved.test'])
  })
})
