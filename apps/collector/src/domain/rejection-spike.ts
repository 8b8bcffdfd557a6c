/**
 * Spots a spike of refused beacons (docs/webhooks.md, `usage.refused_spike`): counts each
 * account's refusals in the current minute, in memory, and says when a count first goes past the
 * account's threshold. It sits beside the refusal counts the store keeps (the rejections table)
 * rather than reading them back, so a flood of refused beacons costs no extra query; each
 * collector counts its own refusals, and the event's key (the minute) keeps it to one per minute
 * per account across restarts and collectors.
 */
/** The threshold of a plan that sets none (`refusedSpikePerMinute`). */
export const REJECTION_SPIKE_PER_MINUTE = 100

export interface RejectionSpikes {
  /** Counts one refusal at `at`; answers the minute and count when this one crossed `threshold()`. */
  count(account: string, at: number, threshold: () => number): { minute: number; refused: number; threshold: number } | null
}

export function rejectionSpikes(): RejectionSpikes {
  let minute = -1
  let counts = new Map<string, { n: number; threshold: number }>()
  return {
    count(account, at, threshold) {
      const m = Math.floor(at / 60_000) * 60_000
      if (m !== minute) {
        minute = m
        counts = new Map()
      }
      let c = counts.get(account)
      if (!c) {
        c = { n: 0, threshold: threshold() }
        counts.set(account, c)
      }
      c.n++
      return c.n === c.threshold + 1 ? { minute: m, refused: c.n, threshold: c.threshold } : null
    },
  }
}
