/**
 * Where a webhook may be sent (docs/webhooks.md, "Where webhooks may go"; docs/security.md): only
 * to public addresses. Anyone holding the admin token could otherwise make the collector POST
 * into its own network: itself (127.0.0.1, ::1), the cloud metadata service (169.254.169.254),
 * private ranges (10/8, 172.16/12, 192.168/16, fc00::/7), link-local, multicast, and the same
 * addresses written as IPv4-mapped, NAT64 or 6to4 IPv6.
 *
 * - At registration, `webhookUrlProblem` refuses a URL whose literal host is such an address (the
 *   WHATWG parser has already turned `0177.0.0.1`, `2130706433` and `0x7f.1` into `127.0.0.1`) or
 *   a `localhost` name.
 * - At delivery, `guardedLookup` resolves the name itself and hands the socket only the addresses
 *   it checked, so a name re-pointed at a private address after registration (DNS rebinding) is
 *   refused at connect time and the connection cannot go anywhere else.
 *
 * `server.webhooks.allowPrivateNetworks` turns both checks off, for development and tests.
 */
import { lookup as dnsLookup } from 'node:dns/promises'
import { BlockList, isIP, type LookupFunction } from 'node:net'

/** IPv4 ranges that are not globally reachable (the IANA special-purpose registry), as [address, prefix]. */
const IPV4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 itself
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local: the cloud metadata service
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255
]

/** IPv6 ranges that are not globally reachable. IPv4-mapped addresses are checked as IPv4. */
const IPV6: readonly [string, number][] = [
  ['::', 96], // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
]

const hex = (a: number, b: number) => ((a << 8) | b).toString(16)

const blocked = (() => {
  const list = new BlockList()
  for (const [addr, bits] of IPV4) {
    list.addSubnet(addr, bits, 'ipv4')
    // The same IPv4 range reached through the well-known NAT64 prefix or a 6to4 address.
    const [a = 0, b = 0, c = 0, d = 0] = addr.split('.').map(Number)
    list.addSubnet(`64:ff9b::${hex(a, b)}:${hex(c, d)}`, 96 + bits, 'ipv6')
    list.addSubnet(`2002:${hex(a, b)}:${hex(c, d)}::`, 16 + bits, 'ipv6')
  }
  for (const [addr, bits] of IPV6) list.addSubnet(addr, bits, 'ipv6')
  return list
})()

/**
 * An address without its IPv6 zone; an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-translated
 * (`::ffff:0:a.b.c.d`) IPv6 address as the IPv4 address it carries.
 */
function normal(address: string): string {
  const a = address.split('%')[0] as string
  if (isIP(a) !== 6) return a
  // The URL parser writes an IPv6 address one way: lower case, zeros compressed, no dotted quad.
  const canonical = new URL(`http://[${a}]/`).hostname.slice(1, -1)
  const m = /^::ffff:(?:0:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical)
  if (!m) return canonical
  const hi = parseInt(m[1] as string, 16)
  const lo = parseInt(m[2] as string, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

/**
 * True for an address a webhook may go to: a globally reachable unicast address. Anything that
 * is not an IP address is false.
 * @example isPublicAddress('93.184.215.14') // true
 * @example isPublicAddress('::ffff:7f00:1') // false: 127.0.0.1
 */
export function isPublicAddress(address: string): boolean {
  const a = normal(address)
  const family = isIP(a)
  if (family === 0) return false
  return !blocked.check(a, family === 4 ? 'ipv4' : 'ipv6')
}

/** The IP address a URL's `hostname` is written as (without IPv6 brackets), or null for a name. */
export function literalAddress(hostname: string): string | null {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  return isIP(h) === 0 ? null : h
}

/** `localhost` and its subdomains always name the loopback (RFC 6761), whatever DNS says. */
const isLocalhostName = (hostname: string) => /(^|\.)localhost\.?$/i.test(hostname)

/**
 * Why a webhook URL may not be registered, as a message naming `url`, or null when it may.
 * Takes the parsed URL: the WHATWG parser has turned every other spelling of an IPv4 address
 * (octal, hexadecimal, a single number, fewer than four parts) into the dotted one.
 * @example webhookUrlProblem(new URL('http://2130706433/'), false) // 'url: 127.0.0.1 is not a public address …'
 */
export function webhookUrlProblem(url: URL, allowPrivateNetworks: boolean): string | null {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'url: expected an http or https URL'
  if (url.username || url.password) return 'url: expected a URL without credentials (user:password@)'
  if (allowPrivateNetworks) return null
  const literal = literalAddress(url.hostname)
  if (literal !== null && !isPublicAddress(literal)) {
    return `url: ${literal} is not a public address (loopback, private, link-local, multicast or reserved); webhooks go to public addresses only`
  }
  if (isLocalhostName(url.hostname)) return `url: ${url.hostname} names the loopback; webhooks go to public addresses only`
  return null
}

/** A delivery refused because its host is, or resolves only to, addresses that are not public. */
export class PrivateAddressError extends Error {
  override readonly name = 'PrivateAddressError'
  readonly code = 'ERR_WEBHOOK_PRIVATE_ADDRESS'
}

export type Resolve = (hostname: string, family: number) => Promise<{ address: string; family: number }[]>

const systemResolve: Resolve = (hostname, family) => dnsLookup(hostname, { all: true, family: family === 4 || family === 6 ? family : 0 })

/**
 * A `lookup` for `node:http`/`node:https` `request` that resolves the name with `resolve` and
 * passes on only public addresses: the socket connects to one of exactly these, so the address
 * checked is the address used. When none is public the connection fails with a
 * `PrivateAddressError` naming what the name resolved to. With `allowPrivateNetworks` every
 * address passes.
 */
export function guardedLookup(allowPrivateNetworks: boolean, resolve: Resolve = systemResolve): LookupFunction {
  return ((hostname: string, options: { family?: number | string; all?: boolean }, callback: (...args: unknown[]) => void) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0)
    resolve(hostname, family).then(
      (found) => {
        const usable = allowPrivateNetworks ? found : found.filter((a) => isPublicAddress(a.address))
        if (usable.length === 0) {
          const err =
            found.length === 0
              ? Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' })
              : new PrivateAddressError(`refused: ${hostname} resolves only to addresses that are not public (${found.map((a) => a.address).join(', ')})`)
          callback(err)
        } else if (options.all) {
          callback(null, usable)
        } else {
          const first = usable[0] as { address: string; family: number }
          callback(null, first.address, first.family)
        }
      },
      (err: unknown) => callback(err),
    )
  }) as LookupFunction
}
