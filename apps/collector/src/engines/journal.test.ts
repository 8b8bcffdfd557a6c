import { readdirSync, readFileSync } from 'node:fs'
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

  // drizzle-kit diffs the schema against the newest snapshot and refuses two snapshots with one
  // parent: the snapshots must form one chain, the newest at the last migration, so that
  // `npm run db:generate` writes only what the schema changed.
  it('keeps its schema snapshots in one chain, the newest at its last migration', () => {
    const meta = new URL(`../../drizzle/${engine}/meta/`, import.meta.url)
    const snapshots = readdirSync(meta)
      .filter((f) => f.endsWith('_snapshot.json'))
      .sort()
      .map((f) => ({ file: f, ...(JSON.parse(readFileSync(new URL(f, meta), 'utf8')) as { id: string; prevId: string }) }))
    for (let i = 1; i < snapshots.length; i++) expect(snapshots[i]!.prevId, snapshots[i]!.file).toBe(snapshots[i - 1]!.id)
    expect(snapshots.at(-1)!.file.slice(0, 4)).toBe(String(journal(engine).at(-1)!.idx).padStart(4, '0'))
  })
})
