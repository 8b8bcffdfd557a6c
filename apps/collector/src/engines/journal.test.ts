import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

// The migrator runs a migration only when it is dated after the newest one a database applied: a
// journal entry dated before an earlier entry would be skipped on every database that has that one.
const journal = (engine: string) =>
  (
    JSON.parse(readFileSync(new URL(`../../drizzle/${engine}/meta/_journal.json`, import.meta.url), 'utf8')) as {
      entries: { idx: number; when: number; tag: string }[]
    }
  ).entries

describe.each(['sqlite', 'postgres'])('the %s migration journal', (engine) => {
  it('lists its migrations in number order, each dated after the one before', () => {
    const entries = journal(engine)
    expect(entries.map((e) => e.idx)).toEqual([...entries.map((e) => e.idx)].sort((a, b) => a - b))
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.when, entries[i]!.tag).toBeGreaterThan(entries[i - 1]!.when)
  })
})
