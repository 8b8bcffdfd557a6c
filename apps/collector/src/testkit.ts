/** Test fixtures for the collector's route tests (not part of the build). */
import { parseConfig, type TallyConfig } from '@tally/protocol'
import { createApp, type AppOptions } from './app.js'
import type { Engine, Repository } from './engines/repository.js'
import { manualClock } from './domain/clock.js'
import { openSqliteStore, type SqliteStore } from './storage.js'

/** 2026-07-20T12:00:00Z */
export const NOW = Date.UTC(2026, 6, 20, 12, 0, 0)
export const ADMIN = 'admin-token-for-tests'
export const ORIGIN = 'https://shop.acme.test'

export function testConfig(extra: Record<string, unknown> = {}): TallyConfig {
  const r = parseConfig({
    plans: { growth: { currency: 'EUR', basePrice: 4900 } },
    accounts: {
      acme: {
        name: 'Acme',
        timezone: 'Europe/Amsterdam',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12' },
        keys: { secret: 'sk_acme_secret', read: 'rk_acme_read' },
        containers: {
          ctr_shop: {
            domains: ['shop.acme.test', '*.acme.test'],
            campaigns: { cmp_summer: { active: true }, cmp_winter: {}, cmp_old: { active: false } },
            advisors: { adv_shoes: { active: true }, adv_old: { active: false } },
            bots: { bot_help: {}, bot_off: { active: false } },
          },
          ctr_origins: {
            domains: ['example.com', '*.wild.example', 'bücher.example', 'Upper.Example.', 'пример.рф', 'ports.example:8080', '127.0.0.1'],
            campaigns: { cmp_a: {} },
          },
        },
      },
      dormant: {
        active: false,
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12' },
        keys: { secret: 'sk_dormant_secret', read: 'rk_dormant_read' },
        containers: { ctr_dormant: { domains: ['dormant.test'], campaigns: { cmp_a: {} } } },
      },
    },
    ...extra,
  })
  if (!r.ok) throw new Error(r.message)
  return r.value
}

export function setup(opts: Partial<AppOptions> & { config?: TallyConfig } = {}) {
  const clock = manualClock(NOW)
  const store = opts.store ?? openSqliteStore({ file: ':memory:' })
  const app = createApp({ clock, adminToken: ADMIN, ...opts, store, config: opts.config ?? testConfig() })
  const post = (
    body: unknown,
    {
      container = 'ctr_shop',
      origin = ORIGIN,
      headers = {} as Record<string, string>,
    }: { container?: string; origin?: string | null; headers?: Record<string, string> } = {},
  ) =>
    app.request(`/v1/containers/${container}/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', ...(origin === null ? {} : { origin }), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  const count = (sql: string, ...args: unknown[]) => ((store as SqliteStore).db.prepare(sql).get(...args) as { n: number }).n
  return { app, store: store as SqliteStore, clock, post, count }
}

/** Everything a beacon can store: billable units and chat phase events. */
export const STORED_ROWS = 'SELECT (SELECT COUNT(*) FROM impressions) + (SELECT COUNT(*) FROM engagements) + (SELECT COUNT(*) FROM chat_events) AS n'

let seq = 0
export const nextId = (prefix = 'e') => `${prefix}${++seq}`

export const batch = (events: unknown[], sentAt = NOW) => ({ v: 1, sentAt, sdk: 'tally-js/test', events })
export const impression = (campaign = 'cmp_summer', session = 's_1', id = nextId(), ts = NOW) => ({ id, type: 'impression', session, campaign, ts })
export const engagement = (advisor = 'adv_shoes', session = 's_1', id = nextId(), ts = NOW) => ({ id, type: 'engagement', session, advisor, ts })
export const chat = (phase: string, ts: number, conversation = 'conv_1', bot = 'bot_help', id = nextId('c')) => ({
  id,
  type: 'chat',
  session: 's_1',
  conversation,
  bot,
  phase,
  ts,
})

/**
 * An engine whose repository counts the rows (array items, map entries) its reads hand to the
 * services: how a test shows that a request's work does not grow with an account's history.
 */
export function countingEngine(inner: Engine): Engine & { rows: number } {
  const wrap = (repo: Repository): Repository =>
    new Proxy(repo, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown
        if (typeof value !== 'function') return value
        return async (...args: unknown[]) => {
          const out = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
          if (Array.isArray(out)) engine.rows += out.length
          if (out instanceof Map) engine.rows += out.size
          return out
        }
      },
    })
  const engine = {
    rows: 0,
    transaction: <T>(fn: (tx: Repository) => Promise<T>) => inner.transaction((tx) => fn(wrap(tx))),
    read: <T>(fn: (db: Repository) => Promise<T>) => inner.read((db) => fn(wrap(db))),
    close: () => inner.close(),
  }
  return engine
}

/** RFC 4180 rows back into fields (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
      i++
    } else cell += c
  }
  return rows
}
