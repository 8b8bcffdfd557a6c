/**
 * The billing oracle (docs/billing.md, The oracle): generated account-years through the collector's services on
 * SQLite and PostgreSQL, and through a reference model written from docs/rules.md alone
 * (test/oracle/model.ts, which imports nothing from the billing package or the collector). Every
 * run must finalize the same invoices, line by line to the minor unit. `ORACLE_YEARS` sets how
 * many account-years per engine (bench/oracle runs 10,000); the counts are printed. ORACLE_SEED and
ORACLE_PATH replay a failed run.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { openSqliteStore } from '../../apps/collector/src/storage.js'
import { TEST_ENGINES } from '../pg/engines.js'
import { historyArb } from './history.js'
import { drive } from './drive.js'

const YEARS = Number(process.env.ORACLE_YEARS ?? 0)
const PER_ENGINE = { SQLite: YEARS || 200, PostgreSQL: YEARS || 40 }
const replay = process.env.ORACLE_SEED ? { seed: Number(process.env.ORACLE_SEED), path: process.env.ORACLE_PATH } : {}

describe.each(TEST_ENGINES)('the billing oracle on $name', ({ name, skip, open }) => {
  it.skipIf(skip)(
    'agrees with the model on every invoice of generated account-years',
    async () => {
      const store = (await open()) ?? openSqliteStore({ file: ':memory:' })
      let n = 0
      let invoices = 0
      let runs = 0
      await fc.assert(
        fc.asyncProperty(historyArb, async (h) => {
          const v = await drive(store, `acct${++n}`, h)
          invoices += v.invoices
          runs += v.runs
          expect(v.disagreement, JSON.stringify(h)).toBeNull()
        }),
        // ORACLE_SEED (and ORACLE_PATH) replay a run that failed: fast-check prints both.
        { numRuns: PER_ENGINE[name], endOnFailure: true, ...replay },
      )
      console.log(`oracle ${name}: ${n} histories (${n} account-years), ${runs} billing runs, ${invoices} invoices agreed line by line`)
    },
    3_600_000,
  )
})
