/**
 * The statements of billable units and rollups on PostgreSQL, for one beacon or a group of them
 * (./group.ts): built here, sent by ./events.ts. Arrays go as PostgreSQL array literals built
 * here, and the insert answers only the units that were already stored.
 */
import type { RollupDelta, UnitRow } from '../repository.js'

/** One beacon's units, as `insertUnits` takes them. */
export interface UnitBatch {
  account: string
  container: string
  units: readonly UnitRow[]
}

/** A row the unit insert answers: the position (from 1) among the rows of its kind sent of one that was already stored. */
export interface KnownUnit {
  kind: UnitRow['kind']
  n: number
}

/**
 * The insert of one kind of billable unit, its six arrays (account, container, session, subject,
 * event, time) from parameter `$p` on, as CTEs named after the kind; answers the positions (from
 * 1) of the rows that were NOT inserted, as `kind, n`: none when every unit is new, the common
 * case. One statement may carry the units of several beacons (./group.ts), of several accounts:
 * rows go in key order, so two transactions inserting the same keys wait for each other instead
 * of deadlocking.
 */
export const UNIT_INSERT: Record<UnitRow['kind'], (p: number) => { ctes: string; known: string }> = {
  campaign: (p) => unitInsert('campaign', 'impressions', 'campaign', p),
  advisor: (p) => unitInsert('advisor', 'engagements', 'advisor', p),
}

function unitInsert(kind: string, table: string, subject: string, p: number): { ctes: string; known: string } {
  return {
    ctes: `${kind}_in AS MATERIALIZED (
      SELECT * FROM unnest($${p}::text[], $${p + 1}::text[], $${p + 2}::text[], $${p + 3}::text[], $${p + 4}::text[], $${p + 5}::bigint[])
      WITH ORDINALITY AS u(a, c, s, x, e, t, n)),
    ${kind} AS (
      INSERT INTO ${table} (account, container, session, ${subject}, event_id, time)
      SELECT a, c, s, x, e, t FROM ${kind}_in ORDER BY a, c, s, x
      ON CONFLICT DO NOTHING RETURNING account, container, session, ${subject} AS subject)`,
    known: `SELECT '${kind}' AS kind, n FROM ${kind}_in u
      WHERE NOT EXISTS (SELECT 1 FROM ${kind} i WHERE i.account = u.a AND i.container = u.c AND i.session = u.s AND i.subject = u.x)`,
  }
}

/** The identity of a billable unit (its unique key), as one string. */
export const unitKey = (kind: string, account: string, container: string, session: string, subject: string) =>
  `${kind}\u0000${account}\u0000${container}\u0000${session}\u0000${subject}`

const ESCAPED = /[\\"]/
/**
 * A `text[]` parameter as PostgreSQL's array literal. node-postgres builds the same one with two
 * regular-expression replaces per element; here an element is copied as it is unless it holds a
 * quote or a backslash (a beacon's ids never do, but nothing relies on it).
 */
export function textArray(values: readonly string[]): string {
  let out = '{'
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as string
    out += `${i === 0 ? '"' : ',"'}${ESCAPED.test(v) ? v.replace(/[\\"]/g, '\\$&') : v}"`
  }
  return `${out}}`
}

/** A `bigint[]` parameter of integers as PostgreSQL's array literal. */
export const integerArray = (values: readonly number[]): string => `{${values.join(',')}}`

/**
 * The insert of the units of `batches` in one statement, or null when there are none; `fresh`
 * turns its answer into, per batch and row, whether the unit was new. A unit named twice (in one
 * batch or two) is sent once, and is new for its first row only.
 */
export function unitsStatement(batches: readonly UnitBatch[]): { text: string; values: string[]; fresh: (known: readonly KnownUnit[]) => boolean[][] } | null {
  const kinds = (['campaign', 'advisor'] as const).filter((k) => batches.some((b) => b.units.some((u) => u.kind === k)))
  if (kinds.length === 0) return null
  const fresh = batches.map((b) => b.units.map(() => false))
  const columns = kinds.map(() => [[], [], [], [], [], []] as [string[], string[], string[], string[], string[], number[]])
  /** Per kind, the (batch, row) of each row sent, in order. */
  const sent = kinds.map(() => [] as [number, number][])
  const seen = new Set<string>()
  for (const [b, { account, container, units }] of batches.entries()) {
    for (const [r, u] of units.entries()) {
      // The first row of a unit is the one stored, with its event id.
      const k = unitKey(u.kind, account, container, u.session, u.subject)
      if (seen.has(k)) continue
      seen.add(k)
      const n = kinds.indexOf(u.kind)
      const c = columns[n] as (typeof columns)[number]
      c[0].push(account)
      c[1].push(container)
      c[2].push(u.session)
      c[3].push(u.subject)
      c[4].push(u.eventId)
      c[5].push(u.time)
      sent[n]?.push([b, r])
      ;(fresh[b] as boolean[])[r] = true
    }
  }
  // The kinds present, in one round trip: each INSERT sees only its own input.
  const parts = kinds.map((k, n) => UNIT_INSERT[k](1 + 6 * n))
  return {
    text: `WITH ${parts.map((p) => p.ctes).join(',\n')}\n${parts.map((p) => p.known).join(' UNION ALL ')}`,
    values: columns.flatMap(([a, c, s, x, e, t]) => [textArray(a), textArray(c), textArray(s), textArray(x), textArray(e), integerArray(t)]),
    fresh: (known) => {
      for (const { kind, n } of known) {
        const [b, r] = sent[kinds.indexOf(kind)]?.[n - 1] ?? [-1, -1]
        const row = fresh[b]
        if (row) row[r] = false
      }
      return fresh
    },
  }
}

/** The six arrays of the rollup upsert (account, day, container, kind, subject, units). */
export function rollupColumns(rows: readonly (RollupDelta & { account: string })[]): string[] {
  return [
    textArray(rows.map((d) => d.account)),
    textArray(rows.map((d) => d.day)),
    textArray(rows.map((d) => d.container)),
    textArray(rows.map((d) => d.kind)),
    textArray(rows.map((d) => d.subject)),
    integerArray(rows.map((d) => d.units)),
  ]
}
