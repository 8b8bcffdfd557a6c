// The attack of bench/hostile-exports, in its own process (as on the internet, its clients' work is
// not the beacons' load generator's): STALLED clients that ask for the evil account's evidence and
// never read it, and ACTIVE clients that export the shop's evidence again and again (waiting 0.5 s
// after a 429) until the parent says stop; then it reports the statuses and the collector's peak
// RSS, sampled every 20 ms meanwhile.
// argv: port, stalled, active, the collector's pid
import http from 'node:http'
import { connect } from 'node:net'

import { readFileSync } from 'node:fs'

const [port, stalledArg, activeArg, pid] = process.argv.slice(2)
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
let peakKb = rssKb()
const sampler = setInterval(() => {
  peakKb = Math.max(peakKb, rssKb())
}, 20)
const base = `http://127.0.0.1:${port}`

/** A client that asks for the evidence, reads the status line, and never reads again. */
function stall() {
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1')
    socket.on('error', () => undefined)
    socket.write('GET /v1/invoices/2/evidence.csv HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer rk_evil_read\r\n\r\n')
    socket.once('data', (chunk) => {
      socket.pause()
      resolve({ socket, status: Number(chunk.toString('latin1').split(' ')[1]) })
    })
  })
}

/** One export of the shop's evidence read to the end: its status. */
function exportOnce() {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}/v1/invoices/2/evidence.csv`, { headers: { authorization: 'Bearer rk_shop_read' } }, (res) => {
        res.on('data', () => undefined)
        res.on('end', () => resolve(res.statusCode))
      })
      .on('error', reject)
  })
}

const stalled = await Promise.all(Array.from({ length: Number(stalledArg) }, () => stall()))
let running = true
process.on('message', () => {
  running = false
})
const statuses = {}
const active = Array.from({ length: Number(activeArg) }, async () => {
  while (running) {
    const status = await exportOnce()
    statuses[status] = (statuses[status] ?? 0) + 1
    if (status === 429) await new Promise((r) => setTimeout(r, 500))
  }
})
process.send({ ready: true })
await Promise.all(active)
for (const s of stalled) s.socket.destroy()
clearInterval(sampler)
process.send({ stalled: stalled.map((s) => s.status), statuses, peakKb })
process.disconnect()
