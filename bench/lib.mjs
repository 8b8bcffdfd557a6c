// Helpers the benches share (not a bench itself: bench/run.mjs runs bench/<name>/index.mjs only).
import { get } from 'node:http'
import { createServer } from 'node:net'

/** A loopback port nothing listens on now. */
export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

/**
 * Resolves once `url` answers 2xx (20 s at most). Each probe closes its connection: a kept-alive
 * one would count against the collector's 64 connections per address while the load runs.
 */
export async function waitHealthy(url) {
  for (let i = 0; i < 400; i++) {
    try {
      const ok = await new Promise((resolve, reject) => {
        get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
          res.resume()
          resolve(res.statusCode >= 200 && res.statusCode < 300)
        }).on('error', reject)
      })
      if (ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${url} did not come up`)
}

let seq = 0
/**
 * A beacon body of `events` impressions: 10 sessions x events/10 campaigns, every unit distinct,
 * none a duplicate. Built by concatenation: the load generator shares the two cores with the
 * server under test.
 */
export function beaconBody(run, events = 50) {
  const r = `${run}${(seq++).toString(36)}`
  const ts = Date.now()
  let out = ''
  for (let i = 0; i < events; i++) {
    out += `${i ? ',' : ''}{"id":"${r}-${i}","type":"impression","session":"s${r}-${i % 10}","campaign":"cmp_${(i / 10) | 0}","ts":${ts}}`
  }
  return `{"v":1,"sentAt":${ts},"sdk":"bench","events":[${out}]}`
}
