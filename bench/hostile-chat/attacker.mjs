// The attacker of bench/hostile-chat, in its own process (as on the internet, its client's work is
// not the neighbour's load generator's): ATTACKERS clients on one address send beacons as fast as
// they are answered until the parent says stop, then report what they sent. After a 429 each waits
// its Retry-After when `patient`, else sends again at once.
// argv: base, kind (attack | plain), address, patient (1 | 0), start (the conversations' first event
// time), phase, epoch (when the first attack began, ms) and step (ms of attack per ms of event time)
const [base, kind, address, patient, startArg, phase, epoch, step] = process.argv.slice(2)
const CONVERSATIONS = 500
const EVENTS = 500
const ATTACKERS = 16
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'
const start = Number(startArg)
/** Each phase's ids apart from the others', in one letter: a beacon must stay under the body limit. */
const tag = 'pxyz'[Number(phase)]

let n = 0
/**
 * One out-of-order event per conversation, landing as far back as the collector allows: between the
 * 9th and the 8th latest of the loaded events (CHAT_REORDER_EVENTS is 8), and after every earlier
 * attack event, so each lands behind exactly 8 stored events and the collector refolds and rewrites
 * 9 states for it, beacon after beacon. The collector dates an event by its arrival
 * (receivedAt - (sentAt - ts)), so the instant moves on by 1 ms every `step` ms since the first
 * attack began: later beacons (of this attack or the next) land later, within the 1 s between those
 * two events (the parent sets `step` so that both attacks fit).
 */
const REACH = 8
const attackBody = () => {
  const a = `${tag}${String(n++).padStart(6, '0')}`
  const now = Date.now()
  const ts = start + (EVENTS - REACH - 1) * 1000 + 1 + Math.floor((now - Number(epoch)) / Number(step))
  let events = ''
  for (let c = 0; c < CONVERSATIONS; c++)
    events += `${c ? ',' : ''}{"id":"${a}_${c}","type":"chat","session":"s${c}","conversation":"conv_${c}","bot":"bot_x","phase":"ping","ts":${ts}}`
  return `{"v":1,"sentAt":${now},"sdk":"bench","events":[${events}]}`
}
/** The same size of beacon folding nothing: each event a new conversation's start. */
const plainBody = () => {
  const a = n++
  const now = Date.now()
  let events = ''
  for (let c = 0; c < CONVERSATIONS; c++)
    events += `${c ? ',' : ''}{"id":"${tag}${a}_${c}","type":"chat","session":"s${tag}${a}","conversation":"c${tag}${a}_${c}","bot":"bot_x","phase":"start","ts":${now}}`
  return `{"v":1,"sentAt":${now},"sdk":"bench","events":[${events}]}`
}
const make = kind === 'plain' ? plainBody : attackBody

let attacking = true
let sent = 0
let limited = 0
/** Events the collector accepted (the attack's out-of-order events it folded). */
let landed = 0
/** The codes of the events refused in answered beacons. */
const codes = {}
let ms = 0
/** Answers other than 2xx and 429, by status: a bench whose attack is refused for another reason measures nothing. */
const other = {}
process.on('message', () => {
  attacking = false
})
const clients = Array.from({ length: ATTACKERS }, async () => {
  while (attacking) {
    const t0 = performance.now()
    const res = await fetch(`${base}/v1/containers/ctr_evil/events`, {
      method: 'POST',
      headers: { origin: 'https://evil.test', 'content-type': 'text/plain;charset=UTF-8', 'user-agent': UA, 'x-forwarded-for': address },
      body: make(),
    })
    const answer = await res.text()
    if (res.ok) {
      const r = JSON.parse(answer)
      landed += r.accepted
      for (const { code } of r.rejected) codes[code] = (codes[code] ?? 0) + 1
    }
    if (res.status === 429) {
      limited++
      if (patient === '1') await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000))
      continue
    }
    if (!res.ok) other[res.status] = (other[res.status] ?? 0) + 1
    ms += performance.now() - t0
    sent++
  }
})
process.send({ ready: true })
await Promise.all(clients)
process.send({ sent, limited, ms, other, landed, codes })
process.disconnect()
