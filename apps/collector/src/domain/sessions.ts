/**
 * Suspicious sessions (docs/security.md): one client address (an IPv6 client by its /64, see
 * `addressKey` in ./ratelimit.ts) may open at most `perHour` new browser sessions per container
 * per clock hour. The units of the sessions beyond that are stored but counted as `suspicious`:
 * shown to the vendor, never billed. A session already admitted in the hour stays admitted, so a
 * real visitor's later beacons never turn suspicious.
 *
 * The counts live in this process's memory: N collectors behind a balancer admit at most N times
 * the cap per address, which stays a fixed multiple of a small number (docs/security.md).
 *
 * Memory is fixed when the gate is made (docs/reliability.md): two generations of one
 * open-addressing table each, in typed arrays, holding 64-bit fingerprints of the admitted
 * sessions and of each (container, address) with its count. When the newer generation fills, the
 * older one is dropped and the tables swap; a session seen again is carried into the newer one, so
 * a visitor who keeps sending stays admitted. What is dropped is forgotten with its counts, which
 * can only admit, never refuse, a real visitor.
 *
 * Fingerprints are keyed with a secret drawn when the gate is made: a client cannot search offline
 * for session ids that share a fingerprint with one already admitted (and would so pass as it).
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from './clock.js'

const HOUR_MS = 3_600_000

export interface SessionGate {
  /**
   * Admits the sessions of one beacon from `address` (already an `addressKey`) into `container`;
   * answers the sessions that are over the hour's cap.
   */
  admit(container: string, address: string, sessions: Iterable<string>): Set<string>
  /** The bytes the gate holds, fixed when it is made. */
  readonly bytes: number
}

/** Entries (sessions, and (container, address) counts) each generation holds by default: 12 MiB in all. */
export const GATE_ENTRIES = 1 << 18

/**
 * `entries`: what one generation holds before it is dropped; each admitted session takes one, and
 * each (container, address) one more. Between `entries / 2` and `2 * entries` sessions are held.
 */
export function createSessionGate(perHour: number, clock: Clock, entries = GATE_ENTRIES, key: Uint32Array = secret()): SessionGate {
  let newer = new Table(entries)
  let older = new Table(entries)
  let hour = Math.floor(clock.now() / HOUR_MS)
  const s = new Uint32Array(2)
  const p = new Uint32Array(2)

  return {
    bytes: newer.cells.byteLength * 2,
    admit(container, address, sessions) {
      const now = Math.floor(clock.now() / HOUR_MS)
      if (now !== hour) {
        hour = now
        newer.clear()
        older.clear()
      }
      const pair = absorb(key[0]!, key[1]!, `${container}\u0000${address}`)
      finish(pair, p)
      const over = new Set<string>()
      for (const session of sessions) {
        if (newer.full()) rotate()
        finish(absorb(pair[0], pair[1], `\u0001${session}`), s)
        if (newer.find(s[0]!, s[1]!) >= 0) continue
        const carried = older.find(s[0]!, s[1]!) >= 0
        if (!carried && count(newer) + count(older) >= perHour) {
          over.add(session)
          continue
        }
        // A carried session moves its count along with it: the address's total stays the same.
        if (carried) older.add(p[0]!, p[1]!, -1)
        newer.add(s[0]!, s[1]!, 0)
        newer.add(p[0]!, p[1]!, 1)
      }
      return over
    },
  }

  function count(t: Table): number {
    const at = t.find(p[0]!, p[1]!)
    return at >= 0 ? t.cells[at * 3 + 2]! : 0
  }

  function rotate() {
    const dropped = older
    older = newer
    newer = dropped
    newer.clear()
  }
}

/**
 * One generation: `slots` (a power of two, twice the entries) of three words, the fingerprint's
 * two halves and a value; a slot whose fingerprint is 0,0 is empty (fingerprints never are).
 * Linear probing; nothing is ever removed but by `clear`.
 */
class Table {
  readonly cells: Uint32Array
  private readonly mask: number
  private size = 0

  constructor(private readonly entries: number) {
    let slots = 2
    while (slots < entries * 2) slots *= 2
    this.mask = slots - 1
    this.cells = new Uint32Array(slots * 3)
  }

  /** The slot holding `hi,lo`, or -1 - the empty slot where it would go. */
  find(hi: number, lo: number): number {
    const c = this.cells
    for (let i = (hi ^ lo) & this.mask; ; i = (i + 1) & this.mask) {
      const h = c[i * 3]!
      const l = c[i * 3 + 1]!
      if (h === hi && l === lo) return i
      if (h === 0 && l === 0) return -1 - i
    }
  }

  full(): boolean {
    // Two more entries at most are added after this is asked (a session and its address).
    return this.size + 2 > this.entries
  }

  /** Adds `delta` to the value at `hi,lo`, making the entry if it is missing. */
  add(hi: number, lo: number, delta: number): void {
    let at = this.find(hi, lo)
    if (at < 0) {
      at = -1 - at
      this.cells[at * 3] = hi
      this.cells[at * 3 + 1] = lo
      this.size++
    }
    this.cells[at * 3 + 2] = Math.max(0, this.cells[at * 3 + 2]! + delta)
  }

  clear(): void {
    if (this.size === 0) return
    this.cells.fill(0)
    this.size = 0
  }
}

function secret(): Uint32Array {
  const b = randomBytes(8)
  return new Uint32Array([b.readUInt32LE(0), b.readUInt32LE(4)])
}

/**
 * Two 32-bit multiply-xor lanes over the UTF-16 code units, from a keyed state; `finish` mixes the
 * lanes into a 64-bit fingerprint (the lanes of a state stay unmixed so that more can be absorbed).
 */
function absorb(a: number, b: number, text: string): [number, number] {
  let h1 = a ^ 0xdeadbeef
  let h2 = b ^ 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 0x9e3779b1)
    h2 = Math.imul(h2 ^ ch, 0x5f356495)
  }
  return [h1, h2]
}

function finish([a, b]: [number, number], out: Uint32Array): void {
  let h1 = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35)
  const h2 = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35)
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x27d4eb2f)
  out[0] = h1
  // Never 0,0: that marks an empty slot.
  out[1] = h2 | 1
}
