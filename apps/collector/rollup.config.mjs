// Builds the pages the collector serves (src/web, see its README.md): one minified script per
// page, `dist/web/<page>.js`, each bundling the shared modules it imports and the constants it
// takes from @tally/protocol's `contract` entry (its built dist, so run after the protocol's
// build, as `npm run build` does). Paths are resolved from this file.
import { fileURLToPath } from 'node:url'
import typescript from '@rollup/plugin-typescript'
import resolve from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'

const at = (p) => fileURLToPath(new URL(p, import.meta.url))

/** Every page: its folder under src/web holds `main.ts`, the entry. */
const PAGES = ['dashboard', 'portal']

// A page loads the browser-safe part of the contract only: zod and the config schema would
// multiply its size, and nothing of them belongs in a browser.
const onlyContract = {
  name: 'tally-only-contract',
  buildEnd() {
    for (const id of this.getModuleIds()) {
      if (/valibot|zod|protocol[\\/]dist[\\/](index|validate|config|issues)\.|protocol[\\/]src[\\/]/.test(id)) {
        this.error(`a page bundle must not include ${id}`)
      }
    }
  },
}

export default PAGES.map((page) => ({
  input: at(`src/web/${page}/main.ts`),
  output: { file: at(`dist/web/${page}.js`), format: 'iife', strict: true },
  plugins: [
    resolve({ browser: true }),
    // noEmitOnError: a type error in a page fails the build rather than shipping.
    typescript({ tsconfig: at('src/web/tsconfig.json'), outDir: undefined, noEmitOnError: true }),
    onlyContract,
    terser({ ecma: 2022, compress: { passes: 2 }, format: { comments: false } }),
  ],
}))
