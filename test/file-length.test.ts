/**
 * No source file over 400 lines, tests included (docs/architecture.md, "Tests"): past that a file
 * holds more than one concern, and the next engineer cannot read it in one sitting. Built output
 * (`dist`), installed packages and drizzle's generated migrations are not sources.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const MAX_LINES = 400
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs|css)$/
const SKIPPED_DIRS = new Set(['node_modules', 'dist'])
/** drizzle-kit writes these (SQL and JSON today; any script it may add there too). */
const GENERATED = ['apps/collector/drizzle/']

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`
    if (e.isDirectory()) return SKIPPED_DIRS.has(e.name) || GENERATED.some((g) => `${path}/`.startsWith(g)) ? [] : sources(path)
    return SOURCE.test(e.name) ? [path] : []
  })
}

const linesOf = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0)

describe('source files', () => {
  const files = ['apps', 'packages', 'test', 'bench'].flatMap(sources)

  it(`are at most ${MAX_LINES} lines each`, () => {
    expect(files.length).toBeGreaterThan(200)
    const long = files
      .map((f) => `${f}: ${linesOf(readFileSync(join(ROOT, f), 'utf8'))} lines`)
      .filter((l) => Number(l.split(': ')[1]!.split(' ')[0]) > MAX_LINES)
    expect(long).toEqual([])
  })

  it('counts lines as wc -l does, and looks where the sources are', () => {
    expect(linesOf('a\nb\n')).toBe(2)
    expect(linesOf('a\nb')).toBe(2)
    expect(files).toContain('apps/collector/src/app.ts')
    expect(files).toContain('bench/run.mjs')
    expect(files.some((f) => f.includes('/node_modules/') || f.includes('/dist/') || f.startsWith('apps/collector/drizzle/'))).toBe(false)
  })
})
