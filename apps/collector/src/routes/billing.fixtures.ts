/** The plan, accounts and app the billing route tests use (billing*.test.ts). */
import { expect } from 'vitest'
import { parseConfig, type TallyConfig } from '@tally/protocol'
import { ADMIN, setup } from '../testkit.js'
import type { PgStore } from '../storage.js'
import { growth, without } from '../../../../packages/billing/src/testing/plans.js'

export const SK = 'sk_acme_secret'
export const RK = 'rk_acme_read'
export const OTHER_RK = 'rk_other_read'

/** The plan of docs/protocol.md §7 (packages/billing/src/testing/plans.ts) selling no products, with an email pack. */
export const GROWTH = { ...without(growth, 'products'), emailPacks: { big: { emails: 5000, price: 1500 } } }

export function billingConfig(subscription: Record<string, unknown> = {}, plan: Record<string, unknown> = {}): TallyConfig {
  const r = parseConfig({
    plans: { growth: { ...GROWTH, ...plan } },
    accounts: {
      acme: {
        name: 'Acme Inc.',
        timezone: 'Europe/Amsterdam',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 3, contacts: 1000, ...subscription },
        keys: { secret: SK, read: RK },
        members: ['alice', 'bob'],
        containers: { ctr_shop: { domains: ['shop.acme.test'], campaigns: { cmp_summer: {} } } },
      },
      other: {
        name: 'Other',
        timezone: 'UTC',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-01' },
        keys: { secret: 'sk_other_secret', read: OTHER_RK },
      },
    },
  })
  if (!r.ok) throw new Error(r.message)
  return r.value
}

/** The in-process collector for acme, on SQLite in memory unless given a PostgreSQL store. */
export function billing(subscription: Record<string, unknown> = {}, pg?: PgStore, plan: Record<string, unknown> = {}) {
  const t = setup({ config: billingConfig(subscription, plan), ...(pg ? { store: pg } : {}) })
  /** `SELECT count(*) AS n …` on whichever engine holds the data. */
  const stored = async (sql: string) => (pg ? Number((await pg.engine.pool.query<{ n: string }>(sql)).rows[0]?.n) : t.count(sql))
  const send = (path: string, body: unknown, key: string | null = SK, method = 'POST') =>
    t.app.request(path, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  const get = (path: string, key: string | null = RK, headers: Record<string, string> = {}) =>
    t.app.request(path, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } })
  const usage = async (...events: unknown[]) => {
    const res = await send('/v1/usage', { events })
    expect(res.status).toBe(200)
    return ((await res.json()) as { results: { id: string; status: string; code?: string; credits?: { spent: number; balance: number } }[] }).results
  }
  const wallets = async () => ((await (await get('/v1/credits')).json()) as { wallets: Record<string, { balance: number }> }).wallets
  const run = (asOf: string) => send('/v1/admin/billing/run', { asOf }, ADMIN)
  return { ...t, send, get, usage, wallets, run, stored }
}

export const at = (iso: string) => Date.parse(iso)
export let n = 0
export const uid = () => `u${++n}`
