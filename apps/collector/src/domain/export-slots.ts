/**
 * Evidence exports are a bounded resource (docs/security.md, "Exports"): at most `global`
 * exports run at once in a collector, and at most `perAccount` for one account; each holds a
 * reader (on SQLite, an export on the one reader thread: ../engines/sqlite/reader.ts) and a page or
 * two of rows ahead. Past that a request is refused with 429 and `Retry-After`. A client that stops
 * reading is cut after `writeTimeoutMs` without taking a page, and its slot is freed.
 */

export interface ExportLimits {
  /** Exports running at once in this collector. */
  global: number
  /** Exports running at once for one account. */
  perAccount: number
  /** A client that takes no page for this long is cut. */
  writeTimeoutMs: number
}

export const EXPORT_LIMITS: ExportLimits = { global: 2, perAccount: 1, writeTimeoutMs: 30_000 }

/** Seconds a refused export is told to wait. */
export const EXPORT_RETRY_AFTER_S = 10

export interface ExportSlots {
  /** A slot for `account`, or null when the account's or the collector's slots are all taken; release it once. */
  acquire(account: string): (() => void) | null
  /** Exports running now. */
  readonly running: number
}

export function createExportSlots(limits: Pick<ExportLimits, 'global' | 'perAccount'>): ExportSlots {
  let running = 0
  const perAccount = new Map<string, number>()
  return {
    get running() {
      return running
    },
    acquire(account) {
      const mine = perAccount.get(account) ?? 0
      if (running >= limits.global || mine >= limits.perAccount) return null
      running++
      perAccount.set(account, mine + 1)
      let held = true
      return () => {
        if (!held) return
        held = false
        running--
        const left = (perAccount.get(account) ?? 1) - 1
        if (left > 0) perAccount.set(account, left)
        else perAccount.delete(account)
      }
    },
  }
}
