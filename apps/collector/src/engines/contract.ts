/**
 * The repository contract (./repository.ts) as a test suite, run against every engine:
 * `describeRepository('SQLite', open)` in ./sqlite/contract.test.ts, and the same call with
 * another engine's `open` runs the same tests there. Not part of the build. The areas live in
 * ./contract-*.ts (ingest, evidence, money, portal, config), each called from here.
 */
import { describe, expect, it, beforeEach, afterEach } from 'vitest'
import { type Engine, type Repository, StoreUnavailable } from './repository.js'
import { T } from './contract-fixtures.js'
import { describeIngestContract } from './contract-ingest.js'
import { describeEvidenceContract } from './contract-evidence.js'
import { describeMoneyContract } from './contract-money.js'
import { describePortalContract } from './contract-portal.js'
import { describeConfigContract } from './contract-config.js'

export interface OpenedEngine {
  engine: Engine
  /** Closes the engine and removes what the test created. */
  dispose(): Promise<void>
}

export function describeRepository(name: string, open: () => Promise<OpenedEngine>): void {
  describe(`the ${name} repository`, () => {
    let opened: OpenedEngine
    let engine: Engine
    beforeEach(async () => {
      opened = await open()
      engine = opened.engine
    })
    afterEach(async () => {
      await opened.dispose()
    })
    const tx = <T>(fn: (r: Repository) => Promise<T>): Promise<T> => engine.transaction(fn)

    describe('transactions', () => {
      it('commits everything a transaction wrote when it resolves', async () => {
        await tx((r) => r.addRollups('acme', [{ day: '2026-07-20', container: 'ctr', kind: 'campaign', subject: 'cmp', units: 2 }]))
        expect(await engine.read((r) => r.rollups('acme', '2026-07-20', '2026-07-21'))).toEqual([
          { day: '2026-07-20', container: 'ctr', kind: 'campaign', subject: 'cmp', units: 2 },
        ])
      })

      it('writes nothing of a transaction that throws, and passes its error on', async () => {
        const boom = new Error('decided to fail')
        await expect(
          tx(async (r) => {
            await r.insertUnits('acme', 'ctr', [{ kind: 'campaign', session: 's', subject: 'cmp', eventId: 'e1', time: T }])
            await r.addRollups('acme', [{ day: '2026-07-20', container: 'ctr', kind: 'campaign', subject: 'cmp', units: 1 }])
            throw boom
          }),
        ).rejects.toBe(boom)
        expect(await engine.read((r) => r.rollups('acme', '2026-07-20', '2026-07-21'))).toEqual([])
        expect(await tx((r) => r.insertUnits('acme', 'ctr', [{ kind: 'campaign', session: 's', subject: 'cmp', eventId: 'e1', time: T }]))).toEqual([true])
      })

      it('keeps concurrent transactions apart: one failing does not undo another', async () => {
        const [bad, good] = await Promise.allSettled([
          tx(async (r) => {
            await r.insertUnits('acme', 'ctr', [{ kind: 'campaign', session: 'bad', subject: 'cmp', eventId: 'b', time: T }])
            throw new Error('no')
          }),
          tx((r) => r.insertUnits('acme', 'ctr', [{ kind: 'campaign', session: 'good', subject: 'cmp', eventId: 'g', time: T }])),
        ])
        expect(bad.status).toBe('rejected')
        expect(good).toEqual({ status: 'fulfilled', value: [true] })
        expect(
          await tx((r) =>
            r.insertUnits('acme', 'ctr', [
              { kind: 'campaign', session: 'bad', subject: 'cmp', eventId: 'b2', time: T },
              { kind: 'campaign', session: 'good', subject: 'cmp', eventId: 'g2', time: T },
            ]),
          ),
        ).toEqual([true, false])
      })

      it('answers StoreUnavailable once closed', async () => {
        await engine.close()
        await expect(tx((r) => r.ping())).rejects.toBeInstanceOf(StoreUnavailable)
        await expect(engine.read((r) => r.ping())).rejects.toBeInstanceOf(StoreUnavailable)
      })
    })

    describeIngestContract(() => engine)
    describeEvidenceContract(() => engine)
    describeMoneyContract(() => engine)
    describePortalContract(() => engine)
    describeConfigContract(() => engine)
  })
}
