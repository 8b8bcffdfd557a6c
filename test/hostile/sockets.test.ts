/**
 * Sockets held open on purpose (docs/security.md): headers or a body that never end are cut
 * within the timeouts, an idle keep-alive connection is closed, and three addresses opening
 * hundreds of connections each keep at most `perAddress` apiece, so they cannot take every file
 * descriptor while another address is still served. Raw sockets against a real Node server on
 * loopback (127.0.0.x addresses all reach it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type Socket } from 'node:net'
import { rmSync } from 'node:fs'
import { SOCKET_LIMITS } from '../../apps/collector/src/middleware/sockets.js'
import { freePort, requireBuilt, startCollector, writeConfig, type Collector } from '../e2e-process.js'

// The defaults, as a deployment runs them.
const LIMITS = SOCKET_LIMITS

let collector: Collector
let port: number
let dir: string
beforeAll(async () => {
  requireBuilt()
  const w = writeConfig(['shop.test'], { cmp_a: {} })
  dir = w.dir
  port = await freePort()
  collector = await startCollector({ config: w.config, db: w.db, port })
}, 30_000)
afterAll(async () => {
  await collector?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const open = (localAddress = '127.0.0.1'): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress })
    s.once('connect', () => resolve(s))
    s.once('error', reject)
  })
/** Milliseconds until the server closes the socket (bounded: rejects after `within`). */
const closedAfter = (s: Socket, within: number): Promise<{ ms: number; data: string }> =>
  new Promise((resolve, reject) => {
    const t0 = Date.now()
    let data = ''
    s.on('data', (d) => (data += d))
    s.on('error', () => {})
    const timer = setTimeout(() => {
      s.destroy()
      reject(new Error(`still open after ${within} ms`))
    }, within)
    s.once('close', () => {
      clearTimeout(timer)
      resolve({ ms: Date.now() - t0, data })
    })
  })

describe('socket timeouts sized for beacons', () => {
  it('are seconds, not minutes, by default', () => {
    expect(SOCKET_LIMITS).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 5_000 })
  })

  it('cut headers that never end, a body that never ends, and an idle keep-alive connection', async () => {
    const slack = 4 * LIMITS.checkEveryMs + 1_000
    const headers = await open()
    headers.write('POST /v1/containers/ctr_test/events HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    const body = await open()
    body.write(
      'POST /v1/containers/ctr_test/events HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.test\r\nContent-Type: text/plain\r\n' +
        'User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0\r\nContent-Length: 5000\r\n\r\n{"v":1,',
    )
    const idle = await open()
    idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    const [h, b, k] = await Promise.all([
      closedAfter(headers, LIMITS.headersTimeoutMs + slack),
      closedAfter(body, LIMITS.requestTimeoutMs + slack),
      closedAfter(idle, LIMITS.keepAliveTimeoutMs + slack),
    ])
    expect(h.data).toMatch(/^HTTP\/1\.1 408/)
    expect(h.ms).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 100)
    expect(b.ms).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 100)
    expect(k.data).toMatch(/^HTTP\/1\.1 200/)
    expect(k.ms).toBeGreaterThanOrEqual(LIMITS.keepAliveTimeoutMs - 100)
  }, 30_000)
})

describe('connections per client address', () => {
  it('keeps at most perAddress open for each of three addresses, and still serves a fourth', async () => {
    const TRIES = 100
    const addresses = ['127.0.0.2', '127.0.0.3', '127.0.0.4']
    const sockets: { address: string; socket: Socket; closed: boolean }[] = []
    try {
      for (const address of addresses) {
        for (let i = 0; i < TRIES; i++) {
          const socket = await open(address)
          const entry = { address, socket, closed: false }
          socket.on('error', () => {})
          socket.once('close', () => (entry.closed = true))
          sockets.push(entry)
        }
      }
      // The collector closes the excess as it accepts them; on a busy machine the closes arrive late.
      const held = (address: string) => sockets.filter((s) => s.address === address && !s.closed).length
      for (const deadline = Date.now() + 5_000; Date.now() < deadline && addresses.some((a) => held(a) > LIMITS.perAddress); ) {
        await new Promise((r) => setTimeout(r, 50))
      }
      await new Promise((r) => setTimeout(r, 100))
      for (const address of addresses) {
        expect(sockets.filter((s) => s.address === address && !s.closed)).toHaveLength(LIMITS.perAddress)
      }
      const other = await fetch(`${collector.url}/healthz`)
      expect(other.status).toBe(200)
      // A held connection is a working one: the first of each address is still served.
      const first = sockets.find((s) => !s.closed) as (typeof sockets)[number]
      first.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
      expect((await closedAfter(first.socket, 5_000)).data).toMatch(/^HTTP\/1\.1 200/)
    } finally {
      for (const s of sockets) s.socket.destroy()
    }
    // Closed connections are given back: the address may connect again.
    await new Promise((r) => setTimeout(r, 100))
    const again = await open('127.0.0.2')
    again.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    expect((await closedAfter(again, 5_000)).data).toMatch(/^HTTP\/1\.1 200/)
  })
})
