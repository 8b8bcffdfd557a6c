// The size budget of the script tag (STYLE: a budget, not a hope) and the figures the docs quote:
// the bytes a browser downloads, as the collector serves each build (brotli q11 or gzip -9).
// `npm test` builds first; run `npm run build -w @tally/protocol -w @tally/sdk` before running
// this file alone.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { VERSION } from './transport.js'

const at = (p: string) => fileURLToPath(new URL(p, import.meta.url))
const DOCS = ['../../../docs/sdk.md', '../../../README.md']

/** The most t.js may weigh, gzipped at level 9 (docs/sdk.md, Size). */
const BUDGET = 2000

function built(file: string): Buffer {
  const path = at(`../dist/${file}`)
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build -w @tally/protocol -w @tally/sdk\` first`)
  return readFileSync(path)
}

const gzip = (b: Buffer) => gzipSync(b, { level: 9 }).length
const brotli = (b: Buffer) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
const num = (s: string) => Number(s.replace(/,/g, ''))

describe('t.js', () => {
  it(`weighs at most ${BUDGET} bytes gzipped`, () => {
    expect(gzip(built('t.js'))).toBeLessThanOrEqual(BUDGET)
  })

  it('carries no schema library and no eval', () => {
    for (const file of ['t.js', 't.debug.js', 'sdk.mjs', 'index.js']) {
      const code = built(file).toString('utf8')
      // valibot's messages and zod's class names would show even minified.
      expect(code, file).not.toMatch(/valibot|Invalid type|ZodError/)
      expect(code, file).not.toMatch(/\beval\(|new Function\(/)
    }
  })

  it('carries none of the diagnostics, which t.debug.js and the ESM builds keep', () => {
    // The console prefix, a reason's explanation, and the header only diagnostics read.
    const debugOnly = ['[tally] ', 'GET /v1/rejections says which', 'x-tally-dropped']
    for (const s of debugOnly) expect(built('t.js').toString('utf8')).not.toContain(s)
    for (const file of ['t.debug.js', 'sdk.mjs', 'index.js']) {
      for (const s of debugOnly) expect(built(file).toString('utf8'), file).toContain(s)
    }
  })

  it('reports the package version as its sdk name', () => {
    const pkg = JSON.parse(readFileSync(at('../package.json'), 'utf8')) as { version: string }
    expect(VERSION).toBe(pkg.version)
    for (const file of ['t.js', 't.debug.js', 'sdk.mjs']) expect(built(file).toString('utf8')).toContain(`tally-js/${pkg.version}`)
  })
})

describe.each(DOCS)('%s', (doc) => {
  const text = () => readFileSync(at(doc), 'utf8')

  it.each(['t.js', 't.debug.js', 'sdk.mjs'])('quotes what a browser downloads of %s, within 50 bytes', (file) => {
    const escaped = file.replace(/\./g, '\\.')
    const line = new RegExp(`${escaped}: ([\\d,]+) bytes brotli, ([\\d,]+) gzip, ([\\d,]+) raw`).exec(text())
    expect(line, `${doc} needs a line "${file}: N bytes brotli, N gzip, N raw"`).not.toBeNull()
    const code = built(file)
    expect(Math.abs(num(line![1]!) - brotli(code)), 'brotli').toBeLessThanOrEqual(50)
    expect(Math.abs(num(line![2]!) - gzip(code)), 'gzip').toBeLessThanOrEqual(50)
    expect(Math.abs(num(line![3]!) - code.length), 'raw').toBeLessThanOrEqual(50)
  })
})
