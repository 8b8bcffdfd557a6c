/**
 * A webhook receiver for tests, on loopback: it verifies every signature as a vendor's server
 * would (docs/webhooks.md), can fail its first answers or be down for a while, and records what
 * it got. Not part of the build.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { verifyWebhook } from '../apps/collector/src/domain/webhook-signature.js'

export interface Received {
  id: string
  type: string
  account: string
  body: string
  header: string | undefined
  verified: boolean
  answered: number
}

export interface Receiver {
  url: string
  /** Every request, in arrival order, answered or not. */
  got: Received[]
  /** Ids of the events answered 2xx, in first-acceptance order (each once). */
  accepted(): string[]
  /** The secret to verify with (set once the endpoint exists). */
  secret: string
  /** The next `n` requests are answered 500. */
  failNext(n: number): void
  /** Stops listening (connections are refused) until `up()`. */
  down(): Promise<void>
  up(): Promise<void>
  /** Sends a raw request to itself (a replayed or tampered delivery), answering its status. */
  replay(body: string, header: string | undefined): Promise<number>
  close(): Promise<void>
}

const readAll = async (req: IncomingMessage) => {
  const chunks: Buffer[] = []
  for await (const ch of req as AsyncIterable<Buffer>) chunks.push(ch)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startReceiver(now: () => number = Date.now): Promise<Receiver> {
  let failing = 0
  let server: Server
  let port = 0
  const got: Received[] = []
  const firstAccepted: string[] = []
  const seen = new Set<string>()
  const r: Receiver = {
    url: '',
    got,
    secret: '',
    accepted: () => [...firstAccepted],
    failNext(n) {
      failing = n
    },
    async down() {
      server.closeAllConnections()
      await new Promise<void>((res) => server.close(() => res()))
    },
    async up() {
      await listen()
    },
    async replay(body, header) {
      const res = await fetch(r.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(header ? { 'tally-signature': header } : {}) },
        body,
      })
      return res.status
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((res) => server.close(() => res()))
    },
  }
  const handle = async (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const body = await readAll(req)
    const header = req.headers['tally-signature'] as string | undefined
    const verified = verifyWebhook(body, header, r.secret, now()).ok
    let parsed: { id?: string; type?: string; account?: string } = {}
    try {
      parsed = JSON.parse(body)
    } catch {
      /* recorded as unverified */
    }
    const status = !verified ? 400 : failing > 0 ? 500 : 200
    if (status === 500) failing--
    got.push({ id: parsed.id ?? '', type: parsed.type ?? '', account: parsed.account ?? '', body, header, verified, answered: status })
    // Deduplicated by event id, as the docs tell receivers to.
    if (status === 200 && parsed.id && !seen.has(parsed.id)) {
      seen.add(parsed.id)
      firstAccepted.push(parsed.id)
    }
    res.writeHead(status).end()
  }
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((req, res) => void handle(req, res))
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as AddressInfo).port
        r.url = `http://127.0.0.1:${port}/hooks`
        resolve()
      })
    })
  await listen()
  return r
}
