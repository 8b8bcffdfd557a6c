#!/usr/bin/env node
// Size of the script a storefront loads: Tally's t.js beside the trackers of Plausible and
// PostHog (lite), all measured in this run, gzip and brotli at their highest levels (what the
// collector serves per Accept-Encoding).
//   - Tally: packages/sdk/dist/t.js (built by `npm run build`), self-contained; below it,
//     t.debug.js (the same with the data-debug diagnostics) and sdk.mjs (the ESM build for
//     <script type="module">), each compared with t.js.
//   - Plausible: @plausible-analytics/tracker/plausible.js, the package's only script, shipped
//     minified and self-contained; measured as is.
//   - PostHog: posthog-js-lite/dist/index.mjs ships no browser bundle and imports @posthog/core,
//     so it is bundled here into one minified script with the same rollup + terser as t.js
//     (and once more without @posthog/core, as a lower bound).
import { readFileSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { rollup } from 'rollup'
import resolve from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'

const root = fileURLToPath(new URL('../../', import.meta.url))
const require = createRequire(import.meta.url)

const dist = (f) => `${root}packages/sdk/dist/${f}`
const tjs = dist('t.js')
for (const f of ['t.js', 't.debug.js', 'sdk.mjs']) {
  if (!existsSync(dist(f))) {
    console.error(`${dist(f)} is missing: run \`npm run build\` first`)
    process.exit(1)
  }
}

const plausibleFile = require.resolve('@plausible-analytics/tracker')
const posthogFile = require.resolve('posthog-js-lite').replace(/index\.cjs$/, 'index.mjs')

async function bundle(input, external = []) {
  const b = await rollup({ input, external, plugins: [resolve({ browser: true }), terser({ ecma: 2020, compress: { passes: 3 } })], logLevel: 'silent' })
  const { output } = await b.generate({ format: 'iife', name: 'posthog', globals: { '@posthog/core': 'core' } })
  await b.close()
  return Buffer.from(output[0].code)
}

const rows = [
  { name: 'tally t.js', file: tjs.slice(root.length), code: readFileSync(tjs) },
  { name: '@plausible-analytics/tracker', file: plausibleFile.slice(root.length), code: readFileSync(plausibleFile) },
  { name: 'posthog-js-lite (bundled)', file: `${posthogFile.slice(root.length)} + @posthog/core`, code: await bundle(posthogFile) },
  // A lower bound: @posthog/core declares no `sideEffects: false`, so a bundler keeps all of it;
  // without it, this is the least a site could load.
  { name: 'posthog-js-lite (no core)', file: `${posthogFile.slice(root.length)} alone, minified`, code: await bundle(posthogFile, ['@posthog/core']) },
]

// Tally's other builds, each measured against t.js like the trackers above.
const builds = [
  { name: 'tally t.debug.js', file: dist('t.debug.js').slice(root.length), code: readFileSync(dist('t.debug.js')) },
  { name: 'tally sdk.mjs', file: dist('sdk.mjs').slice(root.length), code: readFileSync(dist('sdk.mjs')) },
]

// The settings of the collector's precompression (apps/collector/src/script.ts).
const gzip = (b) => gzipSync(b, { level: 9 }).length
const brotli = (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
const tally = rows[0]
const base = { gzip: gzip(tally.code), brotli: brotli(tally.code) }

const table = [...rows, ...builds].map((r) => {
  const g = gzip(r.code)
  const br = brotli(r.code)
  return {
    script: r.name,
    raw: r.code.length,
    gzip: g,
    brotli: br,
    'gzip vs t.js': `${(g / base.gzip).toFixed(2)}x`,
    'brotli vs t.js': `${(br / base.brotli).toFixed(2)}x`,
  }
})
const cols = Object.keys(table[0])
const width = cols.map((c) => Math.max(c.length, ...table.map((r) => String(r[c]).length)))
const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(width[i]) : String(c).padStart(width[i]))).join('  ')
console.log(line(cols))
for (const r of table) console.log(line(cols.map((c) => r[c])))
console.log('\nfiles (bytes of the script a site loads; gzip -9, brotli q11):')
for (const r of [...rows, ...builds]) console.log(`  ${r.name}: ${r.file}`)
// What a part of t.js costs: t.js built again by the repository's own rollup config with that
// part's module made empty, then the gzip bytes it saved. Chat is measured so because it is the
// one part only some pages use (docs/sdk.md: why it stays in t.js).
const EMPTY = { chat: ['src/chat.ts', 'export function createChat() { return {} }'], autotrack: ['src/autotrack.ts', 'export function autotrack() {}'] }
const configs = (await import(`${root}rollup.config.mjs`)).default
const script = configs.find((c) => !Array.isArray(c.output) && c.output.file.endsWith('/t.js'))
async function without(part) {
  const [file, code] = EMPTY[part]
  const stub = { name: 'empty-part', load: (id) => (id.replaceAll('\\', '/').endsWith(`packages/sdk/${file}`) ? code : null) }
  const plugins = [stub, ...script.plugins.filter((p) => p.name !== 'tally-clean-dist')]
  const b = await rollup({ input: script.input, plugins, logLevel: 'silent' })
  const { output } = await b.generate(script.output)
  await b.close()
  return Buffer.from(output[0].code)
}
console.log('\nwhat a part of t.js costs (gzip bytes saved by building t.js with it left out):')
for (const part of Object.keys(EMPTY)) console.log(`  ${part}: ${base.gzip - gzip(await without(part))}`)

// The budget packages/sdk/src/size.test.ts enforces (the goal of docs/performance.md).
const BUDGET = 2000
console.log(
  `\nt.js gzip ${base.gzip} bytes: budget ${BUDGET} ${base.gzip <= BUDGET ? `met (${BUDGET - base.gzip} to spare)` : `NOT met (${base.gzip - BUDGET} over)`}; Plausible ${gzip(rows[1].code)} in the same run`,
)
