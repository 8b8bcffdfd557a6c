/**
 * Suspicious sessions (docs/security.md): one client address (an IPv6 client by its /64, see
 * `addressKey` in ./ratelimit.ts) may open at most `perHour` new browser sessions per container
 * per clock hour. The units of the sessions beyond that are stored but counted as `suspicious`:
 * shown to the vendor, never billed. A session already admitted in the hour stays admitted, so a
 * real visitor's later beacons never turn suspicious.
 *
 * The counts live in this process's memory: N collectors behind a balancer admit at most N times
 * the cap per address, which stays a fixed multiple of a small number (docs/security.md).
 * Memory is bounded: sessions are kept as 30-bit hashes, and at most `maxSessions` of them over
 * every (container, address); past that the oldest addresses are forgotten and start afresh,
 * which can only admit, never refuse, a real visitor.
 */
import type { Clock } from './clock.js'

const HOUR_MS = 3_600_000

export interface SessionGate {
  /**
   * Admits the sessions of one beacon from `address` (already an `addressKey`) into `container`;
   * answers the sessions that are over the hour's cap.
   */
  admit(container: string, address: string, sessions: Iterable<string>): Set<string>
}

interface Window {
  hour: number
  admitted: Set<number>
}

export function createSessionGate(perHour: number, clock: Clock, maxSessions = 1_000_000): SessionGate {
  const windows = new Map<string, Window>()
  let held = 0
  return {
    admit(container, address, sessions) {
      const hour = Math.floor(clock.now() / HOUR_MS)
      const key = `${container}\u0000${address}`
      let w = windows.get(key)
      if (w && w.hour !== hour) {
        held -= w.admitted.size
        windows.delete(key)
        w = undefined
      }
      if (!w) {
        w = { hour, admitted: new Set() }
        windows.set(key, w)
      }
      const over = new Set<string>()
      for (const s of sessions) {
        const h = hash(s)
        if (w.admitted.has(h)) continue
        if (w.admitted.size >= perHour) {
          over.add(s)
          continue
        }
        w.admitted.add(h)
        held++
      }
      if (held > maxSessions) evict(hour, key)
      return over
    },
  }

  /** Drops past hours, then the oldest addresses (Map order is insertion order), never `keep`. */
  function evict(hour: number, keep: string) {
    for (const [k, w] of windows) {
      if (w.hour !== hour) {
        held -= w.admitted.size
        windows.delete(k)
      }
    }
    for (const [k, w] of windows) {
      if (held <= maxSessions / 2) break
      if (k === keep) continue
      held -= w.admitted.size
      windows.delete(k)
    }
  }
}

/**
 * FNV-1a cut to 30 bits, so V8 keeps it a small integer (no heap number per entry): two sessions
 * of one address sharing a hash only admit one more session.
 */
function hash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 2
}
