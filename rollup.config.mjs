// Builds the browser SDK (run from packages/sdk: `npm run build -w @tally/sdk`):
//   packages/sdk/dist/t.js     script-tag IIFE, idb-keyval bundled, minified (size budget: test)
//   packages/sdk/dist/index.js ESM for bundlers, idb-keyval left as a dependency, + .d.ts
// Paths are resolved from this file, so the working directory does not matter.
import { fileURLToPath } from 'node:url'
import typescript from '@rollup/plugin-typescript'
import resolve from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'

const at = (p) => fileURLToPath(new URL(p, import.meta.url))
const sdk = (p) => at(`./packages/sdk/${p}`)
const tsconfig = sdk('tsconfig.build.json')

// The SDK may take constants and types from @tally/protocol, never its validators: zod and
// the config schema would multiply the script's size.
const onlyContract = {
  name: 'tally-only-contract',
  buildEnd() {
    for (const id of this.getModuleIds()) {
      if (/valibot|zod|protocol[\\/]src[\\/](index|validate|config|issues)\./.test(id)) {
        this.error(`the SDK bundle must not include ${id}`)
      }
    }
  },
}

const minify = (module) =>
  terser({
    ecma: 2022,
    module,
    compress: { passes: 3, unsafe_arrows: true },
    format: { comments: false },
  })

export default [
  {
    input: sdk('src/script.ts'),
    output: { file: sdk('dist/t.js'), format: 'iife', strict: false },
    plugins: [resolve({ browser: true }), typescript({ tsconfig, outDir: undefined }), onlyContract, minify(false)],
  },
  {
    input: sdk('src/index.ts'),
    output: { dir: sdk('dist'), format: 'es', entryFileNames: 'index.js' },
    external: ['idb-keyval'],
    plugins: [
      typescript({ tsconfig, declaration: true, declarationDir: sdk('dist/types') }),
      onlyContract,
      minify(true),
    ],
  },
]
