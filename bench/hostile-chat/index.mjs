#!/usr/bin/env node
// bench/hostile-chat: a neighbour's beacon latency while an attacker sends out-of-order chat
// events (docs/security.md, "Conversations"). The attacker's container holds 500 conversations of
// 500 events (sent through the built collector, so each event carries its folded state); then 16
// clients (./attacker.mjs, a process of its own) send, as fast as the collector answers, beacons
// of one out-of-order event for each of the 500 conversations, each landing as far back as allowed
// (the collector folds 16 of them per beacon and refuses the rest).
// Measured in the same run: another account's beacons at a fixed rate, evenly spaced (`paced`),
// quiet and under the attack, and the ratio of their p99 (goal: under 2). Loopback only, about a
// minute. The attacker's process runs at the lowest CPU priority: on the internet its client's
// work (building and sending 60 KB beacons, up to a thousand a second) is not done on the
// collector's cores; here it shares them, and would otherwise be measured as the collector's.
// The collector runs with its default rate limits and trusts loopback as a proxy: the attacker is
// one address (X-Forwarded-For), as on the internet, and the neighbour's storefront traffic comes
// from many visitors' addresses. Each phase's attacker is its own address. The attack is measured
// twice: honouring Retry-After (as much of the attack as the collector lets through: its storage
// work) and ignoring it (every refused beacon sent again at once: what the refusals cost).
// BENCH_PROFILE=dir writes `--cpu-prof` profiles of the collector's threads into dir.
import { fork, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { setPriority, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BROWSER_UA, freePort, pacedBeacons, waitHealthy } from '../lib.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const HERE = fileURLToPath(new URL('.', import.meta.url))
const CLI = join(ROOT, 'apps/collector/dist/cli.js')
const CONVERSATIONS = 500
const EVENTS = 500
const RATE = 100
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const ATTACKERS = 16 // ./attacker.mjs's clients

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first`)
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'tally-bench-hostile-chat-'))
const account = (name, container, domain, extra) => ({
  timezone: 'UTC',
  subscription: { plan: 'p', cycle: 'monthly', start: '2026-01-01' },
  keys: { secret: `sk_${name}_secret`, read: `rk_${name}_read` },
  containers: { [container]: { domains: [domain], ...extra } },
})
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify({
    plans: { p: { currency: 'EUR', basePrice: 0 } },
    accounts: {
      evil: account('evil', 'ctr_evil', 'evil.test', { bots: { bot_x: {} } }),
      shop: account('shop', 'ctr_shop', 'shop.test', { campaigns: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`cmp_${i}`, {}])) }),
    },
    server: { trustedProxies: ['127.0.0.1'], sessionsPerHour: 1_000_000 },
  }),
)

/** The neighbour's visitors come from VISITORS addresses in turn; each attack phase from one address. */
const VISITORS = 200
let visitor = 0
const visitorAddress = () => `198.51.100.${visitor++ % VISITORS}`
const post = (base, container, origin, body, address) =>
  fetch(`${base}/v1/containers/${container}/events`, {
    method: 'POST',
    headers: { origin, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': BROWSER_UA, 'x-forwarded-for': address },
    body,
  })
const start = Date.now() - 20 * 60_000
const chatEvent = (c, id, phase, ts) => `{"id":"${id}","type":"chat","session":"s${c}","conversation":"conv_${c}","bot":"bot_x","phase":"${phase}","ts":${ts}}`

let seq = 0
const shopBody = () => {
  const r = (seq++).toString(36)
  const ts = Date.now()
  let events = ''
  for (let i = 0; i < 10; i++) events += `${i ? ',' : ''}{"id":"b${r}-${i}","type":"impression","session":"sb${r}","campaign":"cmp_${i}","ts":${ts}}`
  return `{"v":1,"sentAt":${ts},"sdk":"bench","events":[${events}]}`
}
/** The neighbour's beacons, RATE a second evenly spaced (`paced`: latency counted from when each was due). */
async function neighbour(base) {
  const res = await pacedBeacons(base, {
    container: 'ctr_shop',
    origin: 'https://shop.test',
    rate: RATE,
    seconds: SECONDS,
    body: shopBody,
    headers: () => ({ 'x-forwarded-for': visitorAddress() }),
  })
  if (res.errors > 0 || res.skipped > 0) throw new Error(`the neighbour's beacons failed: ${JSON.stringify(res)}`)
  return { p50: res.p50, p99: res.p99, max: res.max, non2xx: res.non2xx }
}

try {
  const port = await freePort()
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : []),
      CLI,
      'serve',
      '--config',
      join(dir, 'config.json'),
      '--db',
      join(dir, 'c.db'),
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    { env: { ...process.env, LOG_LEVEL: 'warn', TALLY_ADMIN_TOKEN: 'bench' }, stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const base = `http://127.0.0.1:${port}`
  try {
    await waitHealthy(`${base}/healthz`)
    // 500 conversations of 500 events, one second apart, each sent in one beacon.
    const loadStart = performance.now()
    for (let c = 0; c < CONVERSATIONS; c++) {
      let events = ''
      for (let k = 0; k < EVENTS; k++) events += `${k ? ',' : ''}${chatEvent(c, `e${c}_${k}`, k ? 'ping' : 'start', start + k * 1000)}`
      const res = await post(base, 'ctr_evil', 'https://evil.test', `{"v":1,"sentAt":${Date.now()},"sdk":"bench","events":[${events}]}`, `192.0.2.${c % 250}`)
      const body = await res.json()
      if (body.accepted !== EVENTS) throw new Error(`loading conversation ${c}: ${JSON.stringify(body).slice(0, 200)}`)
    }
    const loadSeconds = (performance.now() - loadStart) / 1000

    const quiet = await neighbour(base)
    /**
     * The neighbour's latency while the attacker (./attacker.mjs, its own process) sends `kind`
     * beacons from `address` as fast as they are answered, honouring Retry-After when `patient`.
     * The same flood of 500-event beacons that fold no conversation ('plain': each a new
     * conversation's start, 16 stored and the rest refused as over the beacon's conversations, like
     * the attack's) is what any 500-event beacon costs to parse and check.
     */
    let phase = 0
    /** When the first attack began, and how many ms of attack move its events' instant on by 1 ms (./attacker.mjs): both attacks' events fit in 1 s. */
    let epoch
    const step = Math.ceil(((2 * SECONDS + 5) * 1000) / 990)
    const under = async (kind, address, patient) => {
      epoch ??= kind === 'attack' ? Date.now() : undefined
      const attacker = fork(
        join(HERE, 'attacker.mjs'),
        [base, kind, address, patient ? '1' : '0', String(start), String(phase++), String(epoch), String(step)],
        { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
      )
      setPriority(attacker.pid, 19)
      const report = new Promise((resolve) => attacker.on('message', (m) => m.ready || resolve(m)))
      await new Promise((resolve) => attacker.once('message', resolve))
      const latency = await neighbour(base)
      attacker.send('stop')
      const { sent, limited, ms, other, landed, codes } = await report
      if (process.env.BENCH_DEBUG) console.log(kind, landed, codes)
      if (Object.keys(other).length > 0) throw new Error(`the ${kind} attack was answered ${JSON.stringify(other)}`)
      await new Promise((r) => attacker.once('exit', r))
      return { latency, sent, limited, ms, landed }
    }
    const flood = await under('plain', '203.0.113.66', true)
    const { latency: busy, sent, limited, ms: attackMs, landed } = await under('attack', '203.0.113.67', true)
    const spin = await under('attack', '203.0.113.68', false)
    const spinRatio = spin.latency.p99 / Math.max(quiet.p99, 1)

    const ratio = busy.p99 / Math.max(quiet.p99, 1)
    console.log(`${CONVERSATIONS} conversations x ${EVENTS} events loaded through the collector in ${loadSeconds.toFixed(1)} s`)
    console.log(`neighbour @${RATE}/s  quiet:        p50 ${quiet.p50} ms  p99 ${quiet.p99} ms  max ${quiet.max} ms  non-2xx ${quiet.non2xx}`)
    console.log(`neighbour @${RATE}/s  under attack: p50 ${busy.p50} ms  p99 ${busy.p99} ms  max ${busy.max} ms  non-2xx ${busy.non2xx}`)
    console.log(
      `neighbour @${RATE}/s  under the same flood of new conversations: p50 ${flood.latency.p50} ms  p99 ${flood.latency.p99} ms  (${flood.sent} beacons answered, ${(flood.ms / Math.max(flood.sent, 1)).toFixed(0)} ms each; ${flood.limited} answered 429)`,
    )
    console.log(
      `neighbour @${RATE}/s  under the attack ignoring Retry-After: p50 ${spin.latency.p50} ms  p99 ${spin.latency.p99} ms  (${spin.sent} beacons answered, ${spin.limited} answered 429)`,
    )
    console.log(
      `attack: ${sent} beacons of ${CONVERSATIONS} out-of-order events answered from ${ATTACKERS} clients on one address (${landed} events folded, each behind 8 stored ones), ${(attackMs / Math.max(sent, 1)).toFixed(0)} ms each on average; ${limited} more answered 429`,
    )
    console.log(
      `p99 ratio under attack / quiet ${ratio.toFixed(2)}, ignoring Retry-After ${spinRatio.toFixed(2)}; under attack / under the same flood without out-of-order events ${(busy.p99 / Math.max(flood.latency.p99, 1)).toFixed(2)}`,
    )
    const met = ratio < 2 && spinRatio < 2 && busy.non2xx === 0 && spin.latency.non2xx === 0
    console.log(`target (p99 ratio < 2 both ways, no refused neighbour beacon): ${met ? 'met' : 'NOT met'}`)
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
