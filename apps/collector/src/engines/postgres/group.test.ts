import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPgStore, type PgStore } from '../../storage.js'
import type { IngestEvent, IngestRequest } from '../../services/store.js'
import { NOW } from '../../testkit.js'
import { freshDatabase, pgSkipReason, type FreshDatabase } from '../../../../../test/pg/database.js'

const DAY = '2026-07-20'
const beacon = (account: string, events: IngestEvent[]): IngestRequest => ({ account, container: 'ctr', receivedAt: NOW, timeZone: 'UTC', events })
const seen = (id: string, session: string, campaign: string): IngestEvent => ({ id, type: 'impression', session, subject: campaign, time: NOW })
const chat = (id: string, phase: 'start' | 'end', time: number): IngestEvent => ({
  id,
  type: 'chat',
  session: 's_chat',
  subject: 'bot_help',
  time,
  conversation: 'conv_1',
  phase,
})

describe.skipIf(pgSkipReason())('group commit of beacons on PostgreSQL', () => {
  let db: FreshDatabase
  let store: PgStore
  /** Connections taken from the pool: one per transaction written. */
  let taken = 0
  beforeAll(async () => {
    db = await freshDatabase()
    store = await openPgStore({ url: db.url, poolSize: 4 })
    store.engine.pool.on('acquire', () => taken++)
  })
  afterAll(async () => {
    await store?.close()
    await db?.drop()
  })
  const units = async (account: string) =>
    (await store.rollups(account, DAY, '2026-07-21')).map((r) => [r.kind, r.subject, r.units] as const).sort((a, b) => (a[1] < b[1] ? -1 : 1))

  it('writes beacons arriving together in one transaction, and a unit two of them name counts once', async () => {
    const before = taken
    const answers = await Promise.all([
      store.ingest(beacon('g1', [seen('e1', 's1', 'cmp_a'), seen('e2', 's1', 'cmp_b')])),
      store.ingest(beacon('g1', [seen('e3', 's1', 'cmp_a'), seen('e4', 's2', 'cmp_a')])),
      store.ingest(beacon('g2', [seen('e1', 's1', 'cmp_a')])),
      store.ingest(beacon('g1', [seen('e2', 's1', 'cmp_b')])),
    ])
    expect(taken - before).toBe(1)
    expect(answers).toEqual([['accepted', 'accepted'], ['duplicate', 'accepted'], ['accepted'], ['duplicate']])
    expect(await units('g1')).toEqual([
      ['campaign', 'cmp_a', 2],
      ['campaign', 'cmp_b', 1],
    ])
    expect(await units('g2')).toEqual([['campaign', 'cmp_a', 1]])
    // The unit's stored event is the one answered as accepted.
    const evidence = await store.engine.read((r) => r.unitPage('g1', 'ctr', 'campaign', 0, NOW + 1, null, 10))
    expect(evidence.map((u) => [u.session, u.subject, u.eventId])).toEqual([
      ['s1', 'cmp_a', 'e1'],
      ['s1', 'cmp_b', 'e2'],
      ['s2', 'cmp_a', 'e4'],
    ])
    // Sent again together: all duplicates, nothing counted twice.
    const again = await Promise.all([store.ingest(beacon('g1', [seen('e1', 's1', 'cmp_a')])), store.ingest(beacon('g2', [seen('e1', 's1', 'cmp_a')]))])
    expect(again).toEqual([['duplicate'], ['duplicate']])
    expect(await units('g2')).toEqual([['campaign', 'cmp_a', 1]])
  })

  it('stores ids with quotes, backslashes, braces and commas as they were sent', async () => {
    const odd = ['a"b', 'c\\d', '{e,f}', 'NULL', ' g ', '\\"']
    const answers = await Promise.all(odd.map((s, k) => store.ingest(beacon('g5', [seen(`o${k}`, s, odd[(k + 1) % odd.length] as string)]))))
    expect(answers).toEqual(odd.map(() => ['accepted']))
    const stored = await store.engine.read((r) => r.unitPage('g5', 'ctr', 'campaign', 0, NOW + 1, null, 10))
    expect(stored.map((u) => [u.session, u.subject]).sort()).toEqual(odd.map((s, k) => [s, odd[(k + 1) % odd.length]]).sort())
  })

  it('answers a transaction that fails in a group alone, and commits the others', async () => {
    const failing = store.engine.grouped(async (tx) => {
      await tx.insertUnits('g3', 'ctr', [{ kind: 'campaign', session: 's9', subject: 'cmp_lost', eventId: 'x', time: NOW }])
      await tx.addRollups('g3', [{ day: DAY, container: 'ctr', kind: 'campaign', subject: 'cmp_lost', units: 1 }])
      throw new Error('the service failed')
    })
    const others = Promise.all([store.ingest(beacon('g3', [seen('k1', 's1', 'cmp_a')])), store.ingest(beacon('g3', [seen('k2', 's2', 'cmp_a')]))])
    await expect(failing).rejects.toThrow('the service failed')
    expect(await others).toEqual([['accepted'], ['accepted']])
    expect(await units('g3')).toEqual([['campaign', 'cmp_a', 2]])
    expect(await store.engine.read((r) => r.unitPage('g3', 'ctr', 'campaign', 0, NOW + 1, null, 10))).toHaveLength(2)
  })

  it('lets two beacons of one conversation in a group fold in turn, each seeing the other', async () => {
    const before = taken
    const [start, end] = await Promise.all([
      store.ingest(beacon('g4', [chat('c1', 'start', NOW - 60_000)])),
      store.ingest(beacon('g4', [chat('c2', 'end', NOW)])),
    ])
    expect(taken - before).toBe(1)
    expect([start, end]).toEqual([['accepted'], ['accepted']])
    const [record] = await store.engine.read((r) => r.conversationRecords('g4', 'ctr', ['conv_1']))
    expect(record?.state.events).toBe(2)
    expect(record?.state.closed).toBe(true)
    expect(await units('g4')).toEqual([['bot', 'bot_help', 1]])
  })
})
