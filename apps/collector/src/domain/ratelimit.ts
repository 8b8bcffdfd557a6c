/**
 * Token buckets per key (a container, a client address), and the client address itself.
 * `X-Forwarded-For` is believed only when the connection comes from a configured proxy; the
 * address is then the right-most entry that is not a proxy (a visitor can prepend anything).
 * An IPv6 client is limited by its /64: one home or cloud network hands out 2^64 addresses.
 */
import { BlockList, isIP } from 'node:net'
import type { Clock } from './clock.js'

export interface Bucket {
  rate: number
  burst: number
}

export interface Limiter {
  /**
   * Takes `cost` tokens (1 by default): 0 when allowed, else the milliseconds until that many are
   * available. A refused take of more than one token holds the key until then: every take meanwhile
   * is refused with what is left of the wait, so a client that asked for costly work and keeps
   * asking (whatever it asks) is refused before anything of its requests is read, and one that
   * waits as told finds the whole cost in the bucket.
   */
  take(key: string, cost?: number): number
}

export function createLimiter(bucket: Bucket, clock: Clock, maxKeys = 100_000): Limiter {
  const state = new Map<string, { tokens: number; at: number; until: number }>()
  const perMs = bucket.rate / 1000
  return {
    take(key, cost = 1) {
      const now = clock.now()
      let s = state.get(key)
      if (!s) {
        if (state.size >= maxKeys) prune(now)
        s = { tokens: bucket.burst, at: now, until: 0 }
        state.set(key, s)
      } else {
        s.tokens = Math.min(bucket.burst, s.tokens + (now - s.at) * perMs)
        s.at = now
      }
      if (now < s.until) return s.until - now
      // Never more than a full bucket: a take costlier than the burst is allowed when the bucket is full.
      const need = Math.min(cost, bucket.burst)
      if (s.tokens >= need) {
        s.tokens -= need
        return 0
      }
      const wait = Math.ceil((need - s.tokens) / perMs)
      if (need > 1) s.until = now + wait
      return wait
    },
  }
  /** Forgets the keys whose buckets have refilled: they behave exactly like new ones. */
  function prune(now: number) {
    for (const [k, s] of state) if (now >= s.until && s.tokens + (now - s.at) * perMs >= bucket.burst) state.delete(k)
    if (state.size >= maxKeys) state.clear()
  }
}

/**
 * A container's budget that no client address may take more than 1/`shares` of: each
 * (container, address) has its own bucket of that share of the rate and burst, taken before the
 * container's. A dozen addresses flooding one container can then take at most 12/20 of its budget
 * and never starve a visitor of the rest; draining it takes more than `shares` addresses, each at
 * its full share. At the defaults (2,000/s per container) a share is 100/s, above the 50/s each
 * address may send at all, so a real visitor never meets it.
 */
export function createFairLimiter(bucket: Bucket, clock: Clock, shares = 20, maxKeys = 100_000): { take(container: string, address: string): number } {
  const whole = createLimiter(bucket, clock, maxKeys)
  const parts = createLimiter({ rate: bucket.rate / shares, burst: Math.max(1, bucket.burst / shares) }, clock, maxKeys)
  return {
    take(container, address) {
      const own = parts.take(`${container}\u0000${address}`)
      return own > 0 ? own : whole.take(container)
    },
  }
}

const unmap = (a: string) => (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a)

/** Compiles trusted proxies (addresses or CIDR ranges) into a matcher. */
export function trustList(entries: readonly string[]): (address: string) => boolean {
  // No proxy trusted (the default): nothing to look up for each request.
  if (entries.length === 0) return () => false
  const list = new BlockList()
  for (const e of entries) {
    const [addr = '', bits] = e.split('/')
    const family = isIP(addr)
    if (family === 0) throw new RangeError(`server.trustedProxies: "${e}" is not an address or CIDR range`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) list.addAddress(addr, type)
    else list.addSubnet(addr, Number(bits), type)
  }
  // BlockList builds an address object for each check: the answers for the few addresses a
  // collector sees (its proxies, the hops they forward) are remembered, a bounded number of them.
  const known = new Map<string, boolean>()
  return (address) => {
    let hit = known.get(address)
    if (hit === undefined) {
      const a = unmap(address)
      const family = isIP(a)
      hit = family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6')
      if (known.size >= 10_000) known.clear()
      known.set(address, hit)
    }
    return hit
  }
}

/** The client address: the socket's, or from `X-Forwarded-For` when the socket is a trusted proxy. */
export function clientAddress(remote: string, forwarded: string | undefined, trusted: (a: string) => boolean): string {
  const peer = unmap(remote)
  if (!forwarded || !trusted(peer)) return peer
  const hops = forwarded
    .split(',')
    .map((h) => unmap(h.trim()))
    .filter((h) => isIP(h) !== 0)
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string
    if (!trusted(hop)) return hop
  }
  return hops[0] ?? peer
}

/**
 * The rate-limit key of a client address: an IPv4 address itself, an IPv6 address its /64
 * (`2001:db8:1:2::/64`), or a visitor could take a fresh address for every request.
 */
export function addressKey(address: string): string {
  // Only an IPv6 address has a colon: an IPv4 address is its own key, with nothing to parse.
  if (!address.includes(':')) return address
  const a = address.split('%')[0] as string
  if (isIP(a) !== 6) return address
  const [head = '', tail] = a.split('::')
  const groups = head ? head.split(':') : []
  if (tail !== undefined) {
    const rest = tail ? tail.split(':') : []
    // An embedded IPv4 tail (::ffff:1.2.3.4) fills two groups.
    const width = rest.length + (rest.at(-1)?.includes('.') ? 1 : 0)
    groups.push(...Array<string>(8 - groups.length - width).fill('0'), ...rest)
  }
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`
}
