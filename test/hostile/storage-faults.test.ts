/**
 * A full or read-only database (docs/architecture.md "Transactions and failures"): every write is
 * a 503 with Retry-After and writes nothing, `/readyz` says 503 while writes fail, and both
 * recover without a restart once the fault is gone. In process, on a SQLite file.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqliteStore } from '../../apps/collector/src/storage.js'
import { UNREADY_AFTER_FAILURE_MS } from '../../apps/collector/src/app.js'
import { STORED_ROWS, batch, impression, nextId, setup } from '../../apps/collector/src/testkit.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function onFile() {
  const dir = mkdtempSync(join(tmpdir(), 'tally-faults-'))
  dirs.push(dir)
  const store = openSqliteStore({ file: join(dir, 'tally.db') })
  return setup({ store })
}

const fill = (n: number) => batch(Array.from({ length: n }, () => impression('cmp_summer', nextId('s'))))

describe.each([
  // Full: no page beyond those it has now.
  ['full', (pages: number) => `PRAGMA max_page_count = ${pages}`, 'PRAGMA max_page_count = 1073741823'],
  ['read-only', () => 'PRAGMA query_only = 1', 'PRAGMA query_only = 0'],
])('a %s database', (_name, fault, cure) => {
  it('answers writes 503 with Retry-After and writes nothing; /readyz is 503; both recover without a restart', async () => {
    const s = onFile()
    expect((await s.post(fill(3))).status).toBe(200)
    const before = s.count(STORED_ROWS)
    const pages = (s.store.db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count
    s.store.db.exec(fault(pages))

    for (let i = 0; i < 3; i++) {
      const res = await s.post(fill(400))
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(await res.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } })
    }
    expect(s.count(STORED_ROWS)).toBe(before)
    expect((await s.app.request('/readyz')).status).toBe(503)

    s.store.db.exec(cure)
    expect((await s.post(fill(400))).status).toBe(200)
    expect(s.count(STORED_ROWS)).toBe(before + 400)
    s.clock.advance(UNREADY_AFTER_FAILURE_MS)
    expect((await s.app.request('/readyz')).status).toBe(200)
  })
})
