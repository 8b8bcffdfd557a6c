// The billing oracle at scale (docs/billing.md, The oracle): 10,000 generated account-years through the collector's
// services and the reference model of test/oracle, every invoice compared line by line; prints how
// many histories, billing runs and invoices agreed. ORACLE_YEARS sets the count (10000), and
// ORACLE_ENGINES=both adds PostgreSQL (the same count again; slower). A disagreement fails it and
// prints the history. Runs the test under vitest, which compiles the TypeScript sources.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const years = process.env.ORACLE_YEARS ?? '10000'
const both = process.env.ORACLE_ENGINES === 'both'
const args = ['vitest', 'run', 'test/oracle/oracle.test.ts', ...(both ? [] : ['-t', 'SQLite'])]
const started = Date.now()
const r = spawnSync('npx', args, { cwd: root, env: { ...process.env, ORACLE_YEARS: years }, encoding: 'utf8', maxBuffer: 1 << 28 })
const out = `${r.stdout}\n${r.stderr}`
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colour codes, which start with ESC
const lines = out.split('\n').filter((l) => /^oracle |collector:|model:|Counterexample/.test(l.replace(/\x1b\[[0-9;]*m/g, '').trim()))
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colour codes, which start with ESC
for (const l of lines) console.log(l.replace(/\x1b\[[0-9;]*m/g, '').trim())
console.log(
  `${r.status === 0 ? 'agreed' : 'DISAGREED'}: ${years} account-years per engine (${both ? 'SQLite and PostgreSQL' : 'SQLite'}) in ${Math.round((Date.now() - started) / 1000)} s`,
)
if (r.status !== 0 && lines.length === 0) console.log(out.slice(-4000))
process.exit(r.status ?? 1)
