/**
 * The repository contract's refusals and configuration part (refused beacons, configuration versions
 * and changes), run by `describeRepository` (./contract.ts) on each engine's database.
 */
import { describe, expect, it } from 'vitest'
import type { Engine, RejectionPage, Repository } from './repository.js'
import { T } from './contract-fixtures.js'

export function describeConfigContract(current: () => Engine): void {
  const engine: Pick<Engine, 'read' | 'transaction'> = { read: (fn) => current().read(fn), transaction: (fn) => current().transaction(fn) }
  const tx = <R>(fn: (r: Repository) => Promise<R>): Promise<R> => engine.transaction(fn)

  describe('refused beacons and configuration changes', () => {
    const page = (over: Partial<RejectionPage> = {}): RejectionPage => ({ limit: 50, offset: 0, sort: 'lastSeen', ...over })

    it('counts refusals per day, container, reason, origin and subject, with the first and last minute, for the account', async () => {
      const r1 = { at: T, container: 'ctr', account: 'acme', reason: 'origin_not_allowed', origin: 'evil.test' }
      await tx(async (r) => {
        await r.recordRejection(r1)
        await r.recordRejection({ ...r1, at: T + 61_000 })
        await r.recordRejection({ ...r1, origin: 'other.test' })
        await r.recordRejection({ ...r1, account: null, container: 'ctr_x' })
        await r.recordRejection({ ...r1, reason: 'unknown_campaign', subject: 'cmp_x', count: 5 })
      })
      expect(await engine.read((r) => r.rejections('acme', T - 1, page()))).toEqual([
        { container: 'ctr', reason: 'origin_not_allowed', origin: 'evil.test', subject: '', count: 2, firstSeen: T, lastSeen: T + 60_000 },
        { container: 'ctr', reason: 'unknown_campaign', origin: 'evil.test', subject: 'cmp_x', count: 5, firstSeen: T, lastSeen: T },
        { container: 'ctr', reason: 'origin_not_allowed', origin: 'other.test', subject: '', count: 1, firstSeen: T, lastSeen: T },
      ])
      // Last seen before `since`: left out.
      expect(await engine.read((r) => r.rejections('acme', T + 60_000, page()))).toHaveLength(1)
    })

    it('answers one page at a time, by count or by last seen, ties in key order', async () => {
      await tx(async (r) => {
        for (let i = 0; i < 7; i++) {
          await r.recordRejection({ at: T + i * 60_000, container: 'ctr', account: 'acme', reason: 'origin_not_allowed', origin: `o${i}.test`, count: 10 - i })
        }
      })
      const origins = async (p: RejectionPage) => (await engine.read((r) => r.rejections('acme', T, p))).map((x) => x.origin)
      expect(await origins(page({ sort: 'count', limit: 3 }))).toEqual(['o0.test', 'o1.test', 'o2.test'])
      expect(await origins(page({ sort: 'count', limit: 3, offset: 3 }))).toEqual(['o3.test', 'o4.test', 'o5.test'])
      expect(await origins(page({ sort: 'lastSeen', limit: 2 }))).toEqual(['o6.test', 'o5.test'])
      expect(await origins(page({ sort: 'lastSeen', limit: 5, offset: 5 }))).toEqual(['o1.test', 'o0.test'])
    })

    it('prunes day rows older than an instant, at most a given number per call', async () => {
      const DAY = 86_400_000
      await tx(async (r) => {
        for (let d = 0; d < 5; d++) {
          await r.recordRejection({ at: T - d * DAY, container: 'ctr', account: 'acme', reason: 'origin_not_allowed', origin: 'a.test' })
          await r.recordRejection({ at: T - d * DAY, container: 'ctr', account: 'acme', reason: 'origin_not_allowed', origin: 'b.test' })
        }
      })
      // Rows of the days that ended before T - 2 days: days -3 and -4, two rows each.
      const cut = Math.floor(T / DAY) * DAY - 2 * DAY
      expect(await tx((r) => r.pruneRejections(cut, 3))).toBe(3)
      expect(await tx((r) => r.pruneRejections(cut, 3))).toBe(1)
      expect(await tx((r) => r.pruneRejections(cut, 3))).toBe(0)
      const left = await engine.read((r) => r.rejections('acme', 0, page()))
      expect(left.map((x) => x.count)).toEqual([3, 3])
    })

    it('writes configuration versions in seq order, numbered per object, each with its audit entry', async () => {
      expect(await engine.read((r) => r.configHead())).toBe(0)
      const written = await tx(async (r) => {
        await r.lockConfig()
        const a1 = await r.insertConfigVersion({ kind: 'account', id: 'a', body: { v: 1 }, before: null, effectiveAt: T, createdAt: T, actor: 'config file' })
        const p1 = await r.insertConfigVersion({ kind: 'plan', id: 'a', body: { p: 1 }, before: null, effectiveAt: T, createdAt: T, actor: 'config file' })
        const a2 = await r.insertConfigVersion({
          kind: 'account',
          id: 'a',
          body: { v: 2 },
          before: { v: 1 },
          effectiveAt: T + 5,
          createdAt: T + 1,
          actor: 'admin',
        })
        const a3 = await r.insertConfigVersion({
          kind: 'account',
          id: 'a',
          body: null,
          before: { v: 2 },
          effectiveAt: T + 5,
          createdAt: T + 2,
          actor: 'config file',
        })
        return [a1, p1, a2, a3]
      })
      expect(written.map((w) => [w.seq, w.kind, w.version])).toEqual([
        [1, 'account', 1],
        [2, 'plan', 1],
        [3, 'account', 2],
        [4, 'account', 3],
      ])
      expect(await engine.read((r) => r.configHead())).toBe(4)
      expect(await engine.read((r) => r.configVersions(0, 10))).toEqual(written)
      expect(await engine.read((r) => r.configVersions(1, 2))).toEqual(written.slice(1, 3))
      const history = await engine.read((r) => r.configHistory('account', 'a', 10))
      expect(history.map((h) => [h.version, h.actor, h.before, h.body, h.effectiveAt])).toEqual([
        [3, 'config file', { v: 2 }, null, T + 5],
        [2, 'admin', { v: 1 }, { v: 2 }, T + 5],
        [1, 'config file', null, { v: 1 }, T],
      ])
      expect((await engine.read((r) => r.configHistory('account', 'a', 1, 3))).map((h) => h.version)).toEqual([2])
    })

    it('keeps the config file as last applied, one row replaced', async () => {
      expect(await engine.read((r) => r.configFile())).toBeNull()
      await tx((r) => r.saveConfigFile({ plans: { a: 1 }, accounts: {} }, T))
      await tx((r) => r.saveConfigFile({ plans: { a: 2 }, accounts: {} }, T + 1))
      expect(await engine.read((r) => r.configFile())).toEqual({ plans: { a: 2 }, accounts: {} })
    })

    it('writes nothing of a configuration transaction that fails', async () => {
      await expect(
        tx(async (r) => {
          await r.lockConfig()
          await r.insertConfigVersion({ kind: 'account', id: 'x', body: { v: 1 }, before: null, effectiveAt: T, createdAt: T, actor: 'admin' })
          throw new Error('boom')
        }),
      ).rejects.toThrow('boom')
      expect(await engine.read((r) => r.configVersions(0, 10))).toEqual([])
      expect(await engine.read((r) => r.configHistory('account', 'x', 10))).toEqual([])
    })

    it('reads the changes stored before versions as none on a new database', async () => {
      expect(await engine.read((r) => r.configChanges())).toEqual([])
    })
  })
}
