// Builds the browser SDK (run from packages/sdk: `npm run build -w @tally/sdk`, after
// @tally/protocol, whose built `contract` entry it bundles):
//   packages/sdk/dist/t.js        script-tag IIFE, idb-keyval bundled, minified, no diagnostics
//                                 (size budget: test)
//   packages/sdk/dist/t.debug.js  the same script with the `data-debug` console diagnostics
//   packages/sdk/dist/index.js    ESM for bundlers, idb-keyval left as a dependency
//   packages/sdk/dist/index.d.ts  its types in one file, the protocol's wire types inlined
//   packages/sdk/dist/sdk.mjs     ESM for <script type="module">, idb-keyval bundled
// Paths are resolved from this file, so the working directory does not matter.
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import typescript from '@rollup/plugin-typescript'
import resolve from '@rollup/plugin-node-resolve'
import replace from '@rollup/plugin-replace'
import terser from '@rollup/plugin-terser'
import { dts } from 'rollup-plugin-dts'

const at = (p) => fileURLToPath(new URL(p, import.meta.url))
const sdk = (p) => at(`./packages/sdk/${p}`)
const tsconfig = sdk('tsconfig.build.json')

// The SDK takes constants and types from @tally/protocol through the package's `contract`
// entry (its built dist), never its validators: zod and the config schema would multiply the
// script's size. A protocol source file in the graph means an import by relative path, past the
// package's exports.
const onlyContract = {
  name: 'tally-only-contract',
  buildEnd() {
    for (const id of this.getModuleIds()) {
      if (/valibot|zod|protocol[\\/]dist[\\/](index|validate|config|issues)\.|protocol[\\/]src[\\/]/.test(id)) {
        this.error(`the SDK bundle must not include ${id}`)
      }
    }
  },
}

// Every output is rebuilt: nothing stale (an old layout's types) may be served or packed.
const clean = {
  name: 'tally-clean-dist',
  buildStart() {
    rmSync(sdk('dist'), { recursive: true, force: true })
  },
}

/** The compile-time switch of debug.ts: `false` drops the console diagnostics from the build. */
const diagnostics = (on, script = false) =>
  replace({ preventAssignment: true, values: { __TALLY_DEBUG__: String(on), ...(script && { __TALLY_SCRIPT__: 'true' }) } })

// The script builds (module false) also drop unused trailing parameters and write booleans as 0
// and 1: nothing in them reads a function's `length`, and every boolean they hold is a flag of
// their own or goes to an API that converts it (fetch's `keepalive`, the MutationObserver
// options, addEventListener's capture argument); none reaches the page (7 bytes gzip off t.js).
const minify = (module) =>
  terser({
    ecma: 2022,
    module,
    compress: { passes: 3, unsafe_arrows: true, ...(!module && { keep_fargs: false, booleans_as_integers: true }) },
    format: { comments: false },
  })

/** The script-tag IIFE, with or without diagnostics. */
const script = (file, debug) => ({
  input: sdk('src/script.ts'),
  output: { file: sdk(`dist/${file}`), format: 'iife', strict: false },
  plugins: [resolve({ browser: true }), typescript({ tsconfig, outDir: undefined }), diagnostics(debug, true), onlyContract, minify(false)],
})

export default [
  { ...script('t.js', false), plugins: [clean, ...script('t.js', false).plugins] },
  script('t.debug.js', true),
  {
    input: sdk('src/index.ts'),
    output: { file: sdk('dist/index.js'), format: 'es' },
    external: ['idb-keyval'],
    // `__TALLY_DEBUG__` stays: `createTracker({ debug: true })` works, and a bundler that
    // defines it as false drops the diagnostics.
    plugins: [resolve({ browser: true }), typescript({ tsconfig, outDir: undefined }), onlyContract, minify(true)],
  },
  {
    input: sdk('src/index.ts'),
    output: { file: sdk('dist/sdk.mjs'), format: 'es' },
    plugins: [resolve({ browser: true }), typescript({ tsconfig, outDir: undefined }), diagnostics(true), onlyContract, minify(true)],
  },
  {
    input: sdk('src/index.ts'),
    output: { file: sdk('dist/index.d.ts'), format: 'es' },
    external: ['idb-keyval'],
    // respectExternal: @tally/protocol is a build-time dependency, so its types are inlined and
    // the published types need nothing but this file.
    plugins: [dts({ tsconfig, respectExternal: true })],
  },
]
