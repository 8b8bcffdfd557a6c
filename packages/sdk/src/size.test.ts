// The size budget of the script tag (STYLE: a budget, not a hope) and the figure the docs quote.
// `npm test` builds first; run `npm run build -w @tally/sdk` before running this file alone.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { VERSION } from './transport.js'

const at = (p: string) => fileURLToPath(new URL(p, import.meta.url))
const T_JS = at('../dist/t.js')
const DOCS = ['../../../docs/sdk.md', '../../../README.md']

/** The most t.js may weigh, gzipped at level 9, idb-keyval included (issue 2). */
const BUDGET = 2500

function built(): Buffer {
  if (!existsSync(T_JS)) throw new Error(`${T_JS} is missing: run \`npm run build -w @tally/sdk\` first`)
  return readFileSync(T_JS)
}

describe('t.js', () => {
  it(`weighs at most ${BUDGET} bytes gzipped`, () => {
    expect(gzipSync(built(), { level: 9 }).length).toBeLessThanOrEqual(BUDGET)
  })

  it.each(DOCS)('is quoted in %s within 50 bytes of its real gzipped size', (doc) => {
    const quoted = /t\.js: (\d[\d,]*) bytes gzipped/.exec(readFileSync(at(doc), 'utf8'))
    expect(quoted, `${doc} needs a line "t.js: NNNN bytes gzipped"`).not.toBeNull()
    const real = gzipSync(built(), { level: 9 }).length
    expect(Math.abs(Number(quoted![1]!.replace(/,/g, '')) - real)).toBeLessThanOrEqual(50)
  })

  it('carries no schema library and no eval', () => {
    const code = built().toString('utf8')
    // valibot's messages and zod's class names would show even minified.
    expect(code).not.toMatch(/valibot|Invalid type|ZodError/)
    expect(code).not.toMatch(/\beval\(|new Function\(/)
  })

  it('reports the package version as its sdk name', () => {
    const pkg = JSON.parse(readFileSync(at('../package.json'), 'utf8')) as { version: string }
    expect(VERSION).toBe(pkg.version)
    expect(built().toString('utf8')).toContain(`tally-js/${pkg.version}`)
  })
})
