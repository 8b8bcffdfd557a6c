/**
 * The usage report (docs/protocol.md §5, `GET /v1/usage`): answered from the daily rollups. Days are calendar days in the account's time zone, as the rollups
 * are, and both bounds are inclusive: `from=2026-07-01&to=2026-07-31` is the whole of July there.
 *
 * Grouping works like SQL `GROUP BY` over one row per (day, container, subject): a campaign's
 * impressions have no advisor, so `groupBy=campaign,advisor` answers a row per campaign (advisor
 * `null`) and a row per advisor (campaign `null`). Summing any grouping gives the same totals.
 */
import { DEFAULT_RANGE_DAYS, MAX_DAY_ROWS, USAGE_METERS, rangeProblem, type UsageMeter } from '@tally/protocol'
import { fail } from '../domain/errors.js'
import { addDays } from '../domain/dates.js'
import { localDayOf } from '@tally/billing'
import type { Clock } from '../domain/clock.js'
import type { ConfigState } from '../domain/config.js'
import type { Store } from './store.js'
import type { SubjectKind } from '../engines/repository.js'

export const GROUPINGS = ['day', 'container', 'campaign', 'advisor', 'bot'] as const
export type Grouping = (typeof GROUPINGS)[number]

/** The meters, the day limit and the range rule are the contract's (packages/protocol/src/usage.ts), shared with the dashboard. */
export const METERS = USAGE_METERS
export type Meter = UsageMeter
export { MAX_DAY_ROWS, DEFAULT_RANGE_DAYS }

export const FILTERS = ['container', 'campaign', 'advisor', 'bot'] as const
export type Filters = Partial<Record<(typeof FILTERS)[number], string>>

export type UsageRow = Partial<Record<Grouping, string | null>> & { containerName?: string } & Record<Meter, number>

export interface UsageReport {
  account: string
  timezone: string
  from: string
  to: string
  groupBy: Grouping[]
  /** The filters applied (`container`, `campaign`, `advisor`, `bot`). */
  filters: Filters
  /** Display names (config `name`) of the campaigns, advisors and bots in the rows that have one. */
  names: Record<'campaign' | 'advisor' | 'bot', Record<string, string>>
  rows: UsageRow[]
}

/** Resolves `from`/`to` (days the route checked) against today in the account's zone; refuses a range that ends before it starts. */
export function parseRange(q: { from?: string | undefined; to?: string | undefined }, today: string): { from: string; to: string } {
  const to = q.to ?? today
  const from = q.from ?? addDays(to, -(DEFAULT_RANGE_DAYS - 1))
  const problem = rangeProblem(from, to)
  if (problem?.problem === 'not_a_day') throw fail('invalid_request', `${problem.param}: expected a date YYYY-MM-DD (years 1970 to 9998)`)
  if (problem) throw fail('invalid_request', `from: ${from} is after to (${to})`)
  return { from, to }
}

const METER_OF: Record<SubjectKind, Meter> = { campaign: 'impressions', advisor: 'engagements', bot: 'chatSessions', suspicious: 'suspicious' }

/** What the report reads: the store, the clock and the configuration in force. */
export interface ReportDeps {
  store: Store
  clock: Clock
  config: ConfigState
}

/** The report's parameters, checked by the route (routes/api/ops-reads.ts, `USAGE_QUERY`): days, groupings, ids. */
export type UsageQuery = { from?: string | undefined; to?: string | undefined; groupBy?: Grouping[] | undefined } & Filters

/** Builds the report of one account for the inclusive day range. */
export async function usageReport(deps: ReportDeps, account: string, q: UsageQuery): Promise<UsageReport> {
  const acc = deps.config.account(account)
  if (!acc) throw fail('not_found', `no account "${account}"`)
  const groupBy = q.groupBy ?? []
  const today = localDayOf(acc.timezone)(deps.clock.now())
  const { from, to } = parseRange(q, today)
  const filters: Filters = Object.fromEntries(FILTERS.flatMap((f) => (q[f] === undefined ? [] : [[f, q[f]]])))
  if (groupBy.includes('day') && addDays(from, MAX_DAY_ROWS) <= to) {
    throw fail('invalid_request', `from: grouped by day, the range is at most ${MAX_DAY_ROWS} days (ten years); ${from} to ${to} is longer`)
  }
  const subjects = (['campaign', 'advisor', 'bot'] as const).filter((k) => filters[k] !== undefined)
  const filtered = Object.keys(filters).length > 0
  const [rollups, billing] = await Promise.all([deps.store.rollups(account, from, addDays(to, 1)), deps.store.billingData(account)])

  const rows = new Map<string, UsageRow>()
  const add = (keys: Record<Grouping, string | null>, meter: Meter, units: number) => {
    const id = groupBy.map((g) => keys[g] ?? '\u0000').join('\u0001')
    let row = rows.get(id)
    if (!row) {
      row = { impressions: 0, engagements: 0, chatSessions: 0, alerts: 0, credits: 0, suspicious: 0 }
      for (const g of groupBy) {
        row[g] = keys[g]
        if (g === 'container') row.containerName = keys.container === null ? '' : (acc.containers[keys.container]?.name ?? '')
      }
      rows.set(id, row)
    }
    row[meter] += units
  }
  for (const r of rollups) {
    // A suspicious count's subject is `kind:subject` of the unit it would have been.
    const [kind, subject] = r.kind === 'suspicious' ? splitSuspicious(r.subject) : [r.kind, r.subject]
    if (filters.container !== undefined && r.container !== filters.container) continue
    if (subjects.length > 0 && !subjects.some((k) => kind === k && subject === filters[k])) continue
    add(
      {
        day: r.day,
        container: r.container,
        campaign: kind === 'campaign' ? subject : null,
        advisor: kind === 'advisor' ? subject : null,
        bot: kind === 'bot' ? subject : null,
      },
      METER_OF[r.kind],
      r.units,
    )
  }
  // Alert sessions and credits come from the vendor's backend (POST /v1/usage), not from a page:
  // they belong to no container, campaign, advisor or bot, so those keys are null.
  const noSubject = { container: null, campaign: null, advisor: null, bot: null }
  for (const u of filtered ? [] : billing.usage) {
    if (u.day >= from && u.day <= to && u.alerts) add({ day: u.day, ...noSubject }, 'alerts', u.alerts)
  }
  const dayOf = localDayOf(acc.timezone)
  for (const e of filtered ? [] : billing.ledger) {
    if (e.type !== 'spend') continue
    const day = dayOf(e.at)
    if (day >= from && day <= to) add({ day, ...noSubject }, 'credits', e.credits)
  }
  const sorted = [...rows.values()].filter((r) => METERS.some((m) => r[m] !== 0))
  // A day without usage is a row of zeros, so a chart or a spreadsheet shows the gap; the range
  // is bounded (parseRange), so this is at most a few thousand rows.
  if (groupBy.includes('day')) {
    const seen = new Set(sorted.map((r) => r.day))
    for (let day = from; day <= to; day = addDays(day, 1)) {
      if (seen.has(day)) continue
      const row: UsageRow = { impressions: 0, engagements: 0, chatSessions: 0, alerts: 0, credits: 0, suspicious: 0 }
      for (const g of groupBy) {
        row[g] = g === 'day' ? day : null
        if (g === 'container') row.containerName = ''
      }
      sorted.push(row)
    }
  }
  sorted.sort((a, b) => {
    for (const g of groupBy) {
      const x = a[g] ?? ''
      const y = b[g] ?? ''
      if (x !== y) return x < y ? -1 : 1
    }
    return 0
  })
  // Totals always answer one row, zeros included: "nothing happened" is an answer.
  if (groupBy.length === 0 && sorted.length === 0) {
    sorted.push({ impressions: 0, engagements: 0, chatSessions: 0, alerts: 0, credits: 0, suspicious: 0 })
  }
  const names: UsageReport['names'] = { campaign: {}, advisor: {}, bot: {} }
  const plural = { campaign: 'campaigns', advisor: 'advisors', bot: 'bots' } as const
  for (const row of sorted) {
    for (const kind of ['campaign', 'advisor', 'bot'] as const) {
      const subject = row[kind]
      if (!subject || Object.hasOwn(names[kind], subject)) continue
      // The row's container names it first; else the first container of the account that does.
      const own = row.container ? acc.containers[row.container] : undefined
      const name =
        own?.[plural[kind]][subject]?.name ??
        Object.values(acc.containers)
          .map((c) => c[plural[kind]][subject]?.name)
          .find((n) => n !== undefined)
      if (name !== undefined) names[kind][subject] = name
    }
  }
  return { account, timezone: acc.timezone, from, to, groupBy, filters, names, rows: sorted }
}

function splitSuspicious(subject: string): [string, string] {
  const at = subject.indexOf(':')
  return [subject.slice(0, at), subject.slice(at + 1)]
}

export function usageColumns(groupBy: readonly Grouping[]): string[] {
  return [...groupBy.flatMap((g) => (g === 'container' ? ['container', 'containerName'] : [g])), ...METERS]
}
