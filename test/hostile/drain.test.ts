/**
 * SIGTERM while clients are mid-request (docs/rules.md §6, graceful drain): the collector stops
 * accepting, answers the requests in flight with `Connection: close`, and lets a slow client that
 * keeps sending finish past the 10-second drain time instead of cutting it. The built collector,
 * as a child process; raw sockets on loopback.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { connect, type Socket } from 'node:net'
import { rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import { BROWSER_UA, freePort, requireBuilt, startCollector, writeConfig } from '../e2e-process.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('a SIGTERM during a slow request', () => {
  it('lets it finish past the drain time, answers it with Connection: close, refuses new connections, and exits 0', async () => {
    requireBuilt()
    const w = writeConfig(['shop.test'], { cmp_a: {} })
    dirs.push(w.dir)
    const port = await freePort()
    const collector = await startCollector({ config: w.config, db: w.db, port })
    const now = Date.now()
    const body = JSON.stringify({
      v: 1,
      sentAt: now,
      sdk: 'tally-js/test',
      events: [{ id: 'slow_1', type: 'impression', session: 's_slow', campaign: 'cmp_a', ts: now }],
    })
    const socket: Socket = connect({ host: '127.0.0.1', port })
    await new Promise((r) => socket.once('connect', r))
    let answer = ''
    socket.on('data', (d) => (answer += d))
    const closed = new Promise((r) => socket.once('close', r))
    socket.write(
      `POST /v1/containers/ctr_test/events HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.test\r\nContent-Type: text/plain\r\n` +
        `User-Agent: ${BROWSER_UA}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    )
    // 12 s of a byte every second or so: past the 10 s drain time, within the 15 s request timeout.
    const chunks = 12
    const step = Math.ceil(body.length / chunks)
    const exited = (async () => {
      await sleep(500)
      return collector.stop('SIGTERM')
    })()
    for (let i = 0; i < chunks; i++) {
      socket.write(body.slice(i * step, (i + 1) * step))
      if (i === 2) {
        // Draining: no new connection is accepted.
        const refused = await new Promise<boolean>((resolve) => {
          const other = connect({ host: '127.0.0.1', port })
          other.once('connect', () => {
            other.destroy()
            resolve(false)
          })
          other.once('error', () => resolve(true))
        })
        expect(refused).toBe(true)
      }
      await sleep(1_000)
    }
    await closed
    expect(answer).toMatch(/^HTTP\/1\.1 200/)
    expect(answer.toLowerCase()).toContain('connection: close')
    expect(answer).toContain('"accepted":1')
    expect(await exited).toBe(0)
    const db = new Database(w.db, { readonly: true })
    expect((db.prepare('SELECT COUNT(*) AS n FROM impressions').get() as { n: number }).n).toBe(1)
    db.close()
  }, 40_000)
})
