// Helpers the benches share (not a bench itself: bench/run.mjs runs bench/<name>/index.mjs only).
import { get } from 'node:http'
import { connect, createServer } from 'node:net'

/** The median of `values` (the mean of the middle two when there is an even number). */
export const median = (values) => {
  const v = [...values].sort((a, b) => a - b)
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}

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
  return impressions(
    events,
    'bench',
    (i) => `${r}-${i}`,
    (i) => `s${r}-${i}`,
  )
}

/**
 * A random id shaped as the SDK makes one (packages/sdk/src/id.ts): four 32-bit words in decimal,
 * up to 40 digits. From `Math.random`: `crypto` would cost the generator several times more CPU.
 */
const sdkId = () => {
  const w = () => (Math.random() * 4294967296) >>> 0
  return `${w()}${w()}${w()}${w()}`
}

/**
 * A beacon of `events` impressions with ids shaped as the SDK makes them: random 40-digit event
 * ids, 10 sessions of 5 campaigns each. `sessions: 'timed'` starts each session id with the time
 * in ms in base 36, as the SDK does (packages/sdk/src/session.ts); `'random'` leaves it random, as
 * the SDK did before. About 8 KB where `beaconBody`'s short ids make 4.6.
 */
export function sdkBeaconBody(events = 50, sessions = 'timed') {
  const prefix = sessions === 'timed' ? `s_${Date.now().toString(36)}` : 's_'
  const ids = Array.from({ length: 10 }, () => prefix + sdkId())
  return impressions(events, 'tally-js/0.1.0', sdkId, (i) => ids[i])
}

/** The batch of `events` impressions: event i has id `id(i)`, session `session(i % 10)`, campaign `cmp_<i / 10>`. */
function impressions(events, sdk, id, session) {
  const ts = Date.now()
  let out = ''
  for (let i = 0; i < events; i++) {
    out += `${i ? ',' : ''}{"id":"${id(i)}","type":"impression","session":"${session(i % 10)}","campaign":"cmp_${(i / 10) | 0}","ts":${ts}}`
  }
  return `{"v":1,"sentAt":${ts},"sdk":"${sdk}","events":[${out}]}`
}

/**
 * A lean HTTP/1.1 client for load generators: `connections` keep-alive sockets to `url`'s host, one
 * request in flight on each, requests beyond that queued in order. It costs the box about 0.1 ms of
 * CPU a request where undici's Pool costs 0.27 ms and Node's http module more: on two cores shared
 * with the server under test, a costly client measures itself. Answers of a known length or
 * chunked; a socket the server closes is replaced. `send(path, headers, body)` resolves to the
 * status (0 when the connection failed).
 */
export function lowClient(url, connections) {
  const { hostname, port } = new URL(url)
  const idle = []
  const queue = []
  let closed = false
  const open = () => {
    const socket = connect(Number(port), hostname)
    socket.setNoDelay(true)
    let buf = Buffer.alloc(0)
    let done = null
    const finish = (status) => {
      const d = done
      done = null
      if (d) d(status)
    }
    socket.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buf.toString('latin1', 0, end)
        let rest = end + 4
        const length = /\r\ncontent-length: *(\d+)/i.exec(head)
        if (length) {
          rest += Number(length[1])
          if (buf.length < rest) return
        } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          for (;;) {
            const line = buf.indexOf('\r\n', rest)
            if (line < 0) return
            const size = Number.parseInt(buf.toString('latin1', rest, line), 16)
            rest = line + 2 + size + 2
            if (buf.length < rest) return
            if (size === 0) break
          }
        }
        buf = buf.subarray(rest)
        finish(Number(head.slice(9, 12)))
        if (/\r\nconnection: *close/i.test(head)) return socket.destroy()
        next(socket)
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      finish(0)
      const k = idle.indexOf(socket)
      if (k >= 0) idle.splice(k, 1)
      if (!closed) next(open())
    })
    socket.send = (request, resolve) => {
      done = resolve
      socket.write(request)
    }
    return socket
  }
  const next = (socket) => {
    const q = queue.shift()
    if (q) socket.send(q[0], q[1])
    else idle.push(socket)
  }
  for (let i = 0; i < connections; i++) idle.push(open())
  return {
    send(path, headers, body) {
      let head = `POST ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`
      for (const k in headers) head += `${k}: ${headers[k]}\r\n`
      const request = `${head}\r\n${body}`
      return new Promise((resolve) => {
        // The socket idle the longest: each stays in use, never closed by the server's keep-alive
        // timeout just as a request is written on it.
        const socket = idle.shift()
        if (socket) socket.send(request, resolve)
        else queue.push([request, resolve])
      })
    },
    close() {
      closed = true
      for (const s of idle) s.destroy()
    },
  }
}

/**
 * Requests at a fixed rate, evenly spaced: request i is due at i / rate seconds and is sent then
 * whether or not earlier ones were answered (an open model, as visitors' beacons arrive). Each
 * request's latency is counted from the time it was due, so time spent waiting for a free
 * connection counts too (no coordinated omission). autocannon's `overallRate` is not used for this:
 * it sends each second's quota back to back at the start of the second and then waits, which
 * measures a burst, not a rate.
 * `request(i)` gives `{ path, headers, body }` of request i; `url` is the origin. The requests due
 * in the first `warmup` seconds open the connections and are sent but not counted. Beyond
 * `maxWaiting` unanswered requests a due request is not sent and is counted `skipped` (the server
 * is not keeping up), so a run stays bounded in time and memory.
 * Answers `{ requests, skipped, seconds, reqPerSec, non2xx, errors, latency: { p50, p99, max } }`
 * (ms, p99 of the requests answered).
 */
export async function paced({ url, rate, seconds, warmup = 0.5, connections = 16, maxWaiting = 4 * connections, request }) {
  const client = lowClient(url, connections)
  const latencies = []
  let non2xx = 0
  let errors = 0
  let skipped = 0
  let waiting = 0
  let issued = 0
  const total = Math.round(rate * (seconds + warmup))
  const start = performance.now()
  const counted = start + warmup * 1000
  const settled = []
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now()
      const upTo = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1)
      for (; issued < upTo; issued++) {
        const due = start + (issued * 1000) / rate
        if (waiting >= maxWaiting) {
          // Not sent: counted like the answers, from the end of the warm-up on.
          if (due >= counted) skipped++
          continue
        }
        const { path, headers, body } = request(issued)
        waiting++
        settled.push(
          client.send(path, headers, body).then((status) => {
            waiting--
            if (due < counted) return
            if (status === 0) return errors++
            latencies.push(performance.now() - due)
            if (status < 200 || status >= 300) non2xx++
          }),
        )
      }
      if (issued >= total) return resolve()
      setTimeout(tick, Math.max(0, start + (issued * 1000) / rate - performance.now()))
    }
    tick()
  })
  await Promise.all(settled)
  const elapsed = (performance.now() - counted) / 1000
  client.close()
  latencies.sort((a, b) => a - b)
  const at = (q) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 10) / 10 : NaN)
  return {
    requests: latencies.length,
    skipped,
    seconds: elapsed,
    reqPerSec: latencies.length / elapsed,
    non2xx,
    errors,
    latency: { p50: at(0.5), p99: at(0.99), max: at(1) },
  }
}

/** A browser's user agent: the collector drops bots' beacons unread. */
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'

/**
 * Beacons to `container` from a page on `origin`, `rate` a second evenly spaced (`paced`), each
 * body from `body()` and any further headers from `headers()`, after `warmup` seconds not counted,
 * at most `maxWaiting` unanswered (`paced`'s defaults when undefined). Answers `paced`'s result with
 * `p50`, `p99`, `max` and `failed` (non-2xx, errors and requests not sent, together) beside it.
 */
export async function pacedBeacons(base, { container, origin, rate, seconds, connections = 8, warmup, maxWaiting, body, headers = () => ({}) }) {
  const res = await paced({
    url: base,
    rate,
    seconds,
    connections,
    warmup,
    maxWaiting,
    request: () => ({
      path: `/v1/containers/${container}/events`,
      headers: { origin, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': BROWSER_UA, ...headers() },
      body: body(),
    }),
  })
  return { ...res, ...res.latency, failed: res.non2xx + res.errors + res.skipped }
}
