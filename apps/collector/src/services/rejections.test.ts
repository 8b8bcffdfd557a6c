import { describe, expect, it } from 'vitest'
import pino from 'pino'
import { manualClock } from '../domain/clock.js'
import type { RejectionRecord } from '../store/repository.js'
import { createRejectionLog, OTHER } from './rejections.js'

const T = Date.UTC(2026, 6, 20, 12, 0, 0)

function logged(opts: { keysPerDay?: number; maxPending?: number } = {}) {
  const clock = manualClock(T)
  const writes: RejectionRecord[][] = []
  const log = createRejectionLog({
    store: { recordRejections: async (rows) => void writes.push(rows.map((r) => ({ ...r }))) }, clock, logger: pino({ level: 'silent' }), ...opts,
  })
  const rows = () => writes.flat()
  return { clock, log, writes, rows }
}
const refusal = (over: Partial<RejectionRecord> = {}): RejectionRecord =>
  ({ at: T, container: 'ctr', account: 'acme', reason: 'origin_not_allowed', origin: 'evil.test', ...over })

describe('the refusal log', () => {
  it('sums refusals of one key in memory and writes one row for them', async () => {
    const { log, writes, rows } = logged()
    for (let i = 0; i < 1_000; i++) log.note(refusal())
    expect(writes).toHaveLength(0)
    await log.flush()
    expect(rows()).toEqual([{ ...refusal(), subject: '', count: 1_000 }])
  })

  it('writes what it holds when the minute turns, so first and last seen stay exact to the minute', async () => {
    const { log, clock, writes } = logged()
    log.note(refusal())
    clock.advance(60_000)
    log.note(refusal({ at: clock.now() }))
    await log.flush()
    expect(writes.map((w) => w.map((r) => r.at))).toEqual([[T], [T + 60_000]])
  })

  it('writes at least every five seconds of traffic, and when too many keys wait', async () => {
    const timed = logged()
    timed.log.note(refusal())
    timed.log.note(refusal({ at: T + 5_000 }))
    await timed.log.flush()
    expect(timed.writes).toHaveLength(2)
    const crowded = logged({ maxPending: 10 })
    for (let i = 0; i < 25; i++) crowded.log.note(refusal({ origin: `o${i}.test` }))
    await crowded.log.flush()
    expect(crowded.writes.map((w) => w.length)).toEqual([10, 10, 5])
  })

  it('gives each account a budget of distinct keys per day, then counts the rest under *', async () => {
    const { log, rows } = logged({ keysPerDay: 3 })
    for (let i = 0; i < 100; i++) log.note(refusal({ origin: `o${i}.test`, subject: 'cmp' }))
    await log.flush()
    expect(rows()).toHaveLength(4)
    expect(rows().find((r) => r.origin === OTHER)).toMatchObject({ count: 97, subject: '', container: 'ctr' })
    expect(rows().reduce((n, r) => n + (r.count ?? 0), 0)).toBe(100)
  })

  it('pools unknown containers, which anyone can name, under one budget and the container *', async () => {
    const { log, rows } = logged({ keysPerDay: 2 })
    for (let i = 0; i < 50; i++) log.note(refusal({ account: null, container: `ctr_${i}`, reason: 'unknown_container' }))
    await log.flush()
    expect(rows().map((r) => [r.container, r.count])).toEqual([['ctr_0', 1], ['ctr_1', 1], [OTHER, 48]])
  })

  it('starts a new budget each UTC day', async () => {
    const { log, clock, rows } = logged({ keysPerDay: 1 })
    log.note(refusal({ origin: 'a.test' }))
    log.note(refusal({ origin: 'b.test' }))
    clock.advance(86_400_000)
    log.note(refusal({ at: clock.now(), origin: 'b.test' }))
    await log.flush()
    expect(rows().map((r) => r.origin)).toEqual(['a.test', OTHER, 'b.test'])
  })

  it('logs a failed write and goes on counting', async () => {
    let fail = true
    const written: RejectionRecord[] = []
    const log = createRejectionLog({
      store: { recordRejections: async (rows) => { if (fail) throw new Error('disk full'); written.push(...rows) } },
      clock: manualClock(T), logger: pino({ level: 'silent' }),
    })
    log.note(refusal())
    await log.flush()
    fail = false
    log.note(refusal())
    await log.flush()
    expect(written).toEqual([{ ...refusal(), subject: '', count: 1 }])
  })
})
