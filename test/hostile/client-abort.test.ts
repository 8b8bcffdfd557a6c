/**
 * A client that drops the connection mid-body is the client's doing: logged at info, counted as
 * a 4xx in the metrics, never a 500 "unexpected error". The built collector over a real socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from 'node:net'
import { rmSync } from 'node:fs'
import { BROWSER_UA, freePort, requireBuilt, startCollector, writeConfig, type Collector } from '../e2e-process.js'

let collector: Collector
let dir: string
let output = ''
beforeAll(async () => {
  requireBuilt()
  const w = writeConfig(['shop.test'], { cmp_a: {} })
  dir = w.dir
  collector = await startCollector({ config: w.config, db: w.db, port: await freePort(), env: { LOG_LEVEL: 'info' } })
  collector.child.stdout?.on('data', (d) => (output += d))
  collector.child.stderr?.on('data', (d) => (output += d))
}, 30_000)
afterAll(async () => {
  await collector?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('a client that drops mid-body', () => {
  it('is logged at info and counted as a 4xx, never as a 500', async () => {
    const port = Number(new URL(collector.url).port)
    for (let i = 0; i < 5; i++) {
      const socket = connect({ host: '127.0.0.1', port })
      await new Promise((r) => socket.once('connect', r))
      socket.write(
        `POST /v1/containers/ctr_test/events HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.test\r\nContent-Type: text/plain\r\n` +
          `User-Agent: ${BROWSER_UA}\r\nContent-Length: 2000\r\n\r\n{"v":1,"events":[`,
      )
      await new Promise((r) => setTimeout(r, 100))
      socket.destroy()
    }
    await new Promise((r) => setTimeout(r, 300))
    const metrics = await (await fetch(`${collector.url}/metrics`)).text()
    const events = metrics.split('\n').filter((l) => l.includes('/v1/containers/:container/events') && l.startsWith('tally_http_requests'))
    expect(events.some((l) => /status="5\d\d"/.test(l))).toBe(false)
    expect(events.some((l) => /status="4\d\d"/.test(l))).toBe(true)
    expect(output).not.toContain('unexpected error')
    const lines = output
      .split('\n')
      .filter((l) => l.includes('closed the connection mid-request'))
      .map((l) => JSON.parse(l) as { level: number })
    expect(lines).toHaveLength(5)
    expect(lines.every((l) => l.level === 30)).toBe(true)
  })
})
