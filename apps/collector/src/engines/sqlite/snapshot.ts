/**
 * Reads of one consistent snapshot each, on a read-only connection of their own: WAL lets them
 * run beside the writer, so the storage thread keeps writing beacons meanwhile. One read at a
 * time, each inside `BEGIN … COMMIT` (a deferred read transaction: every statement of the read
 * sees the database as of its first). What is read is the caller's (../../storage-thread.ts hosts
 * the billing run's plans here).
 */
import Database from 'better-sqlite3'
import { SqliteRepository } from './repository.js'
import { prepare } from './statements.js'
import { classifySqliteError } from './engine.js'
import type { Repository } from '../repository.js'

export interface SnapshotReader {
  read<T>(fn: (db: Repository) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export function openSnapshotReader(file: string): SnapshotReader {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  db.pragma('busy_timeout = 5000')
  const repo = new SqliteRepository(prepare(db))
  const begin = db.prepare('BEGIN')
  const commit = db.prepare('COMMIT')
  let last: Promise<unknown> = Promise.resolve()
  const one = async <T>(fn: (db: Repository) => Promise<T>): Promise<T> => {
    begin.run()
    try {
      return await fn(repo)
    } catch (e) {
      throw classifySqliteError(e, 'the database refused a read')
    } finally {
      commit.run()
    }
  }
  return {
    read<T>(fn: (db: Repository) => Promise<T>): Promise<T> {
      // `last` never rejects: one read's failure is its caller's alone.
      const mine = last.then(() => one(fn))
      last = mine.catch(() => undefined)
      return mine
    },
    async close() {
      await last
      db.close()
    },
  }
}
