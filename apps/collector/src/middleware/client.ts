/**
 * Who is on the other end of a request, read once for every route (docs/security.md, "Trusted
 * proxies"): the client's address, and the protocol and host it reached the collector at. The
 * socket's peer says all three unless it is a trusted proxy (`server.trustedProxies`); only then
 * are `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` believed, since from anyone
 * else each header could be a lie. Routes read `c.var.client` (or `clientOf(c)`), never the
 * headers.
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { IncomingMessage } from 'node:http'
import { clientAddress } from '../domain/ratelimit.js'

export interface Client {
  /** The client's address: the socket's, or the last untrusted hop of a trusted proxy's `X-Forwarded-For`. */
  address: string
  /** The protocol the client used. */
  protocol: 'http' | 'https'
  /** The host (and port, when not the protocol's default) the client asked for. */
  host: string
  /** `protocol://host`: the origin the client sees the collector at. */
  origin: string
}

/** A header a proxy may list several of: the first, the one the client's side set. */
const first = (value: string | undefined) => value?.split(',')[0]?.trim()
/** A host name, IPv4 or bracketed IPv6 address, with an optional port: anything else is not a host. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** The client of a request to `url` from the socket peer `peer`, with its headers. */
export function resolveClient(
  url: string,
  peer: string | undefined,
  header: (name: string) => string | undefined,
  trusted: (address: string) => boolean,
): Client {
  const u = new URL(url)
  let protocol: Client['protocol'] = u.protocol === 'https:' ? 'https' : 'http'
  let host = u.host
  const viaProxy = peer !== undefined && trusted(peer)
  // From anyone but a trusted proxy the request's own URL says it all (the common case: one parse).
  if (!viaProxy) return { address: clientAddress(peer ?? 'unknown', undefined, trusted), protocol, host, origin: u.origin }
  const fProto = first(header('x-forwarded-proto'))?.toLowerCase()
  if (fProto === 'http' || fProto === 'https') protocol = fProto
  const fHost = first(header('x-forwarded-host'))
  if (fHost && HOST.test(fHost)) host = fHost
  let origin: string
  try {
    origin = new URL(`${protocol}://${host}`).origin
  } catch {
    // A forwarded host that passed the pattern and still is no URL host (a port over 65535).
    protocol = u.protocol === 'https:' ? 'https' : 'http'
    origin = u.origin
  }
  return { address: clientAddress(peer ?? 'unknown', header('x-forwarded-for'), trusted), protocol, host: new URL(origin).host, origin }
}

/** Sets `c.var.client` for every route after it. */
export function client(trusted: (address: string) => boolean): MiddlewareHandler<{ Variables: { client: Client } }> {
  return async (c, next) => {
    const peer = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress
    c.set(
      'client',
      resolveClient(c.req.url, peer, (name) => c.req.header(name), trusted),
    )
    await next()
  }
}

/** `c.var.client` in a route whose Hono is not typed with it; the middleware runs before every route. */
export function clientOf(c: Context): Client {
  const found = c.get('client') as Client | undefined
  if (!found) throw new Error('the client middleware did not run before this route')
  return found
}
