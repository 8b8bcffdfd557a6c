// The attacker of bench/hostile-chat, in its own process (as on the internet, its client's work is
// not the neighbour's load generator's): ATTACKERS clients on one address send beacons as fast as
// they are answered until the parent says stop, then report what they sent. After a 429 each waits
// its Retry-After when `patient`, else sends again at once.
// argv: base, kind (attack | plain), address, patient (1 | 0), start (the conversations' first event time), phase
const [base, kind, address, patient, startArg, phase] = process.argv.slice(2)
const CONVERSATIONS = 500
const EVENTS = 500
const ATTACKERS = 16
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'
const start = Number(startArg)
/** Each phase's ids apart from the others', in one letter: a beacon must stay under the body limit. */
const tag = 'pxyz'[Number(phase)]

let n = 0
/** One out-of-order event per conversation: dated between two of its last stored events. */
const attackBody = () => {
  const a = n++
  const now = Date.now()
  let events = ''
  for (let c = 0; c < CONVERSATIONS; c++)
    events += `${c ? ',' : ''}{"id":"${tag}${a}_${c}","type":"chat","session":"s${c}","conversation":"conv_${c}","bot":"bot_x","phase":"ping","ts":${start + (EVENTS - 2) * 1000 + 500 - (a % 400)}}`
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
    await res.arrayBuffer()
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
process.send({ sent, limited, ms, other })
process.disconnect()
