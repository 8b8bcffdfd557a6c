import { describe, expect, it } from 'vitest'
import pino from 'pino'
import { manualClock } from '../domain/clock.js'
import type { RejectionRecord } from '../engines/repository.js'
import { createRejectionLines, createRejectionLog, OTHER } from './rejections.js'

const T = Date.UTC(2026, 6, 20, 12, 0, 0)

function logged(opts: { keysPerDay?: number; maxPending?: number } = {}) {
  const clock = manualClock(T)
  const writes: RejectionRecord[][] = []
  const log = createRejectionLog({
    store: { recordRejections: async (rows) => void writes.push(rows.map((r) => ({ ...r }))) },
    clock,
    logger: pino({ level: 'silent' }),
    ...opts,
  })
  const rows = () => writes.flat()
  return { clock, log, writes, rows }
}
const rejection = (over: Partial<RejectionRecord> = {}): RejectionRecord => ({
  at: T,
  container: 'ctr',
  account: 'acme',
  reason: 'origin_not_allowed',
  origin: 'evil.test',
  ...over,
})

describe('the refusal log', () => {
  it('sums refusals of one key in memory and writes one row for them', async () => {
    const { log, writes, rows } = logged()
    for (let i = 0; i < 1_000; i++) log.note(rejection())
    expect(writes).toHaveLength(0)
    await log.flush()
    expect(rows()).toEqual([{ ...rejection(), subject: '', count: 1_000 }])
  })

  it('writes what it holds when the minute turns, so first and last seen stay exact to the minute', async () => {
    const { log, clock, writes } = logged()
    log.note(rejection())
    clock.advance(60_000)
    log.note(rejection({ at: clock.now() }))
    await log.flush()
    expect(writes.map((w) => w.map((r) => r.at))).toEqual([[T], [T + 60_000]])
  })

  it('writes at least every five seconds of traffic, and when too many keys wait', async () => {
    const timed = logged()
    timed.log.note(rejection())
    timed.log.note(rejection({ at: T + 5_000 }))
    await timed.log.flush()
    expect(timed.writes).toHaveLength(2)
    const crowded = logged({ maxPending: 10 })
    for (let i = 0; i < 25; i++) crowded.log.note(rejection({ origin: `o${i}.test` }))
    await crowded.log.flush()
    expect(crowded.writes.map((w) => w.length)).toEqual([10, 10, 5])
  })

  it('gives each account a budget of distinct keys per day, then counts the rest under *', async () => {
    const { log, rows } = logged({ keysPerDay: 3 })
    for (let i = 0; i < 100; i++) log.note(rejection({ origin: `o${i}.test`, subject: 'cmp' }))
    await log.flush()
    expect(rows()).toHaveLength(4)
    expect(rows().find((r) => r.origin === OTHER)).toMatchObject({ count: 97, subject: '', container: 'ctr' })
    expect(rows().reduce((n, r) => n + (r.count ?? 0), 0)).toBe(100)
  })

  it('pools unknown containers, which anyone can name, under one budget and the container *', async () => {
    const { log, rows } = logged({ keysPerDay: 2 })
    for (let i = 0; i < 50; i++) log.note(rejection({ account: null, container: `ctr_${i}`, reason: 'unknown_container' }))
    await log.flush()
    expect(rows().map((r) => [r.container, r.count])).toEqual([
      ['ctr_0', 1],
      ['ctr_1', 1],
      [OTHER, 48],
    ])
  })

  it('starts a new budget each UTC day', async () => {
    const { log, clock, rows } = logged({ keysPerDay: 1 })
    log.note(rejection({ origin: 'a.test' }))
    log.note(rejection({ origin: 'b.test' }))
    clock.advance(86_400_000)
    log.note(rejection({ at: clock.now(), origin: 'b.test' }))
    await log.flush()
    expect(rows().map((r) => r.origin)).toEqual(['a.test', OTHER, 'b.test'])
  })

  it('logs a failed write and goes on counting', async () => {
    let fail = true
    const written: RejectionRecord[] = []
    const log = createRejectionLog({
      store: {
        recordRejections: async (rows) => {
          if (fail) throw new Error('disk full')
          written.push(...rows)
        },
      },
      clock: manualClock(T),
      logger: pino({ level: 'silent' }),
    })
    log.note(rejection())
    await log.flush()
    fail = false
    log.note(rejection())
    await log.flush()
    expect(written).toEqual([{ ...rejection(), subject: '', count: 1 }])
  })
})

describe('refusals in the log', () => {
  type Line = { container: string; reason: string; origin: string; count: number; since: string; msg: string }
  function lines(opts: { everyMs?: number; maxKeys?: number } = {}) {
    const out: Line[] = []
    const log = createRejectionLines({ logger: pino({ level: 'warn' }, { write: (s: string) => void out.push(JSON.parse(s) as Line) }), ...opts })
    return { log, out, sum: () => out.reduce((n, l) => n + l.count, 0) }
  }

  it('logs the first refusal of a (container, reason) at once, then at most one line a minute with the count since', () => {
    const { log, out, sum } = lines()
    for (let i = 0; i < 500; i++) log.note(rejection({ at: T + i * 100, origin: `o${i}.test` }))
    expect(out.map((l) => [l.container, l.reason, l.count, l.msg])).toEqual([['ctr', 'origin_not_allowed', 1, 'beacons refused']])
    log.due(T + 59_999)
    expect(out).toHaveLength(1)
    log.due(T + 60_000)
    expect(out.slice(1).map((l) => [l.count, l.since, l.origin])).toEqual([[499, new Date(T).toISOString(), 'o499.test']])
    // A second reason of the same container is a key of its own.
    log.note(rejection({ at: T + 60_001, reason: 'origin_missing' }))
    log.note(rejection({ at: T + 60_002 }))
    expect(out).toHaveLength(3)
    log.due(T + 61_000, true)
    expect(out).toHaveLength(4)
    expect(sum()).toBe(502)
  })

  it('forgets a key quiet for an interval, and logs it at once when it comes back', () => {
    const { log, out } = lines()
    log.note(rejection())
    log.due(T + 60_000)
    expect(log.size()).toBe(0)
    log.note(rejection({ at: T + 61_000 }))
    expect(out.map((l) => l.count)).toEqual([1, 1])
  })

  it('holds at most maxKeys keys and one * key per reason, whatever containers a forger names', () => {
    const { log, out, sum } = lines({ maxKeys: 10 })
    for (let i = 0; i < 10_000; i++)
      log.note(rejection({ at: T + i, account: null, container: `forged_${i}`, reason: i % 2 ? 'unknown_container' : 'origin_missing' }))
    expect(log.size()).toBe(12)
    log.due(T + 10_000, true)
    expect(out.length).toBeLessThanOrEqual(10 + 2 * 2)
    expect(sum()).toBe(10_000)
    expect(
      out
        .filter((l) => l.container === OTHER)
        .map((l) => l.count)
        .reduce((a, b) => a + b),
    ).toBe(10_000 - 10)
  })

  it('goes out with the writes: flush logs the lines due, a final flush every count left', async () => {
    const out: Line[] = []
    const clock = manualClock(T)
    const log = createRejectionLog({
      store: { recordRejections: async () => {} },
      clock,
      logger: pino({ level: 'warn' }, { write: (s: string) => void out.push(JSON.parse(s) as Line) }),
    })
    for (let i = 0; i < 3; i++) log.noteAndLog(rejection())
    log.note(rejection({ reason: 'bot' }))
    expect(out.map((l) => l.count)).toEqual([1])
    await log.flush()
    expect(out).toHaveLength(1)
    await log.flush({ final: true })
    expect(out.map((l) => [l.reason, l.count])).toEqual([
      ['origin_not_allowed', 1],
      ['origin_not_allowed', 2],
    ])
  })
})
