/**
 * The Node server's socket limits, sized for beacons (docs/security.md): a beacon is at most
 * 64 KiB sent at once, so a client that takes seconds over its headers or body is not a browser
 * on a slow line but a connection held open on purpose. Node's defaults (5 minutes for a request,
 * checked every 30 s) let a few addresses hold thousands of sockets and every file descriptor.
 *
 * - `headersTimeout`: the whole header block must arrive within it (408, then closed);
 * - `requestTimeout`: the whole request, body included;
 * - `keepAliveTimeout`: an idle keep-alive connection is closed after it;
 * - `perAddress`: concurrent connections of one client address (an IPv6 client by its /64),
 *   closed at accept when over; a trusted proxy (`server.trustedProxies`) is exempt, since every
 *   visitor behind it shares its address.
 */
import type { Server, ServerOptions } from 'node:http'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import { addressKey, clientAddress } from '../domain/ratelimit.js'

export interface SocketLimits {
  headersTimeoutMs: number
  requestTimeoutMs: number
  keepAliveTimeoutMs: number
  /** How often Node checks the header and request timeouts; bounds how late a cut comes. */
  checkEveryMs: number
  perAddress: number
}

export const SOCKET_LIMITS: SocketLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  checkEveryMs: 1_000,
  perAddress: 64,
}

/** What `http.createServer` takes (the checking interval can only be given there). */
export function serverOptions(l: SocketLimits): ServerOptions {
  return {
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    connectionsCheckingInterval: l.checkEveryMs,
  }
}

/**
 * Applies the timeouts again (some are only read from the server object) and caps the
 * connections per client address. Answers the number of open connections per address, for tests
 * and metrics.
 */
export function guardSockets(server: Server, l: SocketLimits, trusted: (address: string) => boolean, logger: Logger): Map<string, number> {
  server.headersTimeout = l.headersTimeoutMs
  server.requestTimeout = l.requestTimeoutMs
  server.keepAliveTimeout = l.keepAliveTimeoutMs
  const open = new Map<string, number>()
  let warnedAt = 0
  server.on('connection', (socket: Socket) => {
    const remote = socket.remoteAddress ?? 'unknown'
    const address = clientAddress(remote, undefined, () => false)
    if (trusted(address)) return
    const key = addressKey(address)
    const n = (open.get(key) ?? 0) + 1
    if (n > l.perAddress) {
      // Closed before a byte is read: the connection costs a descriptor for microseconds.
      socket.destroy()
      const now = Date.now()
      if (now - warnedAt > 10_000) {
        warnedAt = now
        logger.warn({ address: key, limit: l.perAddress }, 'too many connections from one address; refusing more')
      }
      return
    }
    open.set(key, n)
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1
      if (left <= 0) open.delete(key)
      else open.set(key, left)
    })
  })
  return open
}
