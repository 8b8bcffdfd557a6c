// Builds the collector's browser pages (run from apps/collector: `rollup -c`): each page is a
// TypeScript entry under src/<page>/ bundled, minified, into dist/<page>/<page>.js, which the
// collector serves. Today: the billing portal (docs/portal.md).
import { fileURLToPath } from 'node:url'
import typescript from '@rollup/plugin-typescript'
import resolve from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'

const at = (p) => fileURLToPath(new URL(p, import.meta.url))

const page = (name) => ({
  input: at(`src/${name}/main.ts`),
  output: { file: at(`dist/${name}/${name}.js`), format: 'iife' },
  plugins: [
    resolve({ browser: true }),
    typescript({ tsconfig: at('tsconfig.pages.json'), outDir: undefined }),
    terser({ ecma: 2022, format: { comments: false } }),
  ],
})

export default [page('portal')]
