/** The accounts and usage the usage report tests read (usage-report*.test.ts). */
import { expect } from 'vitest'
import { parseConfig } from '@tally/protocol'
import { NOW, batch, chat, engagement, impression, setup } from '../testkit.js'

export const HOUR = 3_600_000
export const ORIGIN = 'https://shop.acme.test'

/** Two accounts; acme's containers have names that need quoting in CSV. */
export function config() {
  const r = parseConfig({
    plans: { growth: { currency: 'EUR', basePrice: 4900, freeCredits: 500, creditCosts: { sms: 2, ai: 10 } } },
    accounts: {
      acme: {
        name: 'Acme',
        timezone: 'Europe/Amsterdam',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12' },
        keys: { secret: 'sk_acme_secret', read: 'rk_acme_read' },
        containers: {
          ctr_shop: {
            name: 'Shop, "North"\nbranch',
            domains: ['shop.acme.test'],
            campaigns: { cmp_summer: { name: 'Summer sale' }, cmp_winter: {} },
            advisors: { adv_shoes: {}, adv_gifts: { name: 'Gift finder' } },
            bots: { bot_help: { name: 'Help desk' } },
          },
          ctr_blog: { name: 'Blog', domains: ['blog.acme.test'], campaigns: { cmp_summer: {} } },
        },
      },
      other: {
        name: 'Other',
        timezone: 'America/New_York',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12' },
        keys: { secret: 'sk_other_secret', read: 'rk_other_read' },
        containers: { ctr_other: { domains: ['other.test'], campaigns: { cmp_summer: {} } } },
      },
    },
  })
  if (!r.ok) throw new Error(r.message)
  return r.value
}

/**
 * NOW is 2026-07-20 14:00 in Amsterdam (UTC+2). Events:
 * - 2026-07-19 23:30 local (21:30Z): cmp_summer on ctr_shop, session s_1
 * - 2026-07-20 00:30 local (22:30Z the day before): cmp_summer s_2, cmp_winter s_2, adv_shoes s_2
 * - 2026-07-20 13:00 local: adv_gifts s_3, a 20-minute chat on bot_help (2 chat sessions), cmp_summer on ctr_blog
 * - account other: cmp_summer on ctr_other, same day
 */
export async function seeded() {
  const s = setup({ config: config() })
  const before = Date.UTC(2026, 6, 19, 21, 30)
  const after = Date.UTC(2026, 6, 19, 22, 30)
  const today = Date.UTC(2026, 6, 20, 11, 0)
  const send = async (events: unknown[], container = 'ctr_shop', origin = ORIGIN) => {
    const res = await s.post(batch(events, s.clock.now()), { container, origin })
    expect(res.status).toBe(200)
    expect((await res.json()).rejected).toEqual([])
  }
  // The chat is sent as it happens (only bot time the collector witnessed is billed), on a clock
  // that then moves on to NOW.
  s.clock.set(today)
  await send([engagement('adv_gifts', 's_3', undefined, today), chat('start', today, 'conv_1')])
  s.clock.set(today + 20 * 60_000)
  await send([chat('end', today + 20 * 60_000, 'conv_1')])
  s.clock.set(NOW)
  await send([impression('cmp_summer', 's_1', undefined, before)])
  await send([
    impression('cmp_summer', 's_2', undefined, after),
    impression('cmp_winter', 's_2', undefined, after),
    engagement('adv_shoes', 's_2', undefined, after),
  ])
  await send([impression('cmp_summer', 's_9', undefined, today)], 'ctr_blog', 'https://blog.acme.test')
  await send([impression('cmp_summer', 's_1', undefined, today)], 'ctr_other', 'https://other.test')
  return s
}

export type S = Awaited<ReturnType<typeof seeded>>
export const get = (s: S, query: string, key = 'rk_acme_read', headers: Record<string, string> = {}) =>
  s.app.request(`/v1/usage${query}`, { headers: { authorization: `Bearer ${key}`, ...headers } })
export const rows = async (s: S, query: string, key?: string) => {
  const res = await get(s, query, key)
  expect(res.status).toBe(200)
  return (await res.json()).rows as Array<Record<string, unknown>>
}
export const zero = { impressions: 0, engagements: 0, chatSessions: 0, alerts: 0, credits: 0, suspicious: 0 }
export const RANGE = '?from=2026-07-19&to=2026-07-20'
