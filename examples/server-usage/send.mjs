#!/usr/bin/env node
/**
 * The vendor's backend reporting server-side usage to Tally (docs/protocol.md §4) with the account's
 * secret key: alerts delivered, credit-consuming actions, the contact count and emails sent.
 *
 *   node examples/server-usage/send.mjs            # against `npm start` (the demo account)
 *   TALLY_URL=https://tally.example TALLY_SECRET_KEY=sk_… node examples/server-usage/send.mjs
 *
 * Every event carries an id of its own: sending the same id again (a retry after a timeout) is
 * answered `duplicate` and never counted twice. This script sends each batch twice to show it.
 */
import { randomUUID } from 'node:crypto'

const url = (process.env.TALLY_URL ?? 'http://127.0.0.1:8787').replace(/\/$/, '')
const key = process.env.TALLY_SECRET_KEY ?? 'sk_demo_secret_key'
const run = randomUUID().slice(0, 8)
const now = Date.now()

async function call(method, path, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const json = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

const events = [
  // Every alert delivered to a user is one alert session.
  { id: `${run}-alert-1`, type: 'alert', alert: 'daily-sales', user: 'u_1', ts: now },
  { id: `${run}-alert-2`, type: 'alert', alert: 'daily-sales', user: 'u_2', ts: now },
  { id: `${run}-alert-3`, type: 'alert', alert: 'stock-low', user: 'u_1', ts: now },
  // Actions cost the credits of the plan's price list (sms 2, ai 10, form 1); free credits go first.
  { id: `${run}-sms-1`, type: 'action', action: 'sms', quantity: 3, ts: now },
  { id: `${run}-ai-1`, type: 'action', action: 'ai', quantity: 1, ts: now },
  { id: `${run}-form-1`, type: 'action', action: 'form', quantity: 5, ts: now },
  // The contact count is a gauge: the period's highest reading decides the contact range.
  { id: `${run}-contacts`, type: 'contacts', count: 840, ts: now },
  // Emails are counted against 4 per paid contact per month; beyond it a send is refused.
  { id: `${run}-email-1`, type: 'email', count: 120, ts: now },
]

const first = await call('POST', '/v1/usage', { events })
console.log('POST /v1/usage')
for (const r of first.results) {
  console.log(`  ${r.id.padEnd(24)} ${r.status}${r.code ? ` (${r.code})` : ''}${r.credits ? `  spent ${r.credits.spent}, balance ${r.credits.balance}` : ''}`)
}

const again = await call('POST', '/v1/usage', { events })
console.log(`the same batch again: ${again.results.map((r) => r.status).join(', ')}`)

// The account sends credits to a team member's wallet (irreversible), who then spends them.
const transfer = await call('POST', '/v1/credits/transfer', { id: `${run}-to-alice`, to: 'alice', credits: 20 })
console.log(`POST /v1/credits/transfer to alice: ${transfer.status}, ${transfer.credits ?? ''} credits`)
const member = await call('POST', '/v1/usage', { events: [{ id: `${run}-alice-sms`, type: 'action', action: 'sms', quantity: 1, member: 'alice', ts: now }] })
console.log(`alice sends an sms: ${member.results[0].status}, her balance ${member.results[0].credits?.balance}`)

const period = await call('GET', '/v1/period')
console.log(
  `\nthis period: ${period.meters.alerts} alert sessions, ${Object.values(period.meters.credits).reduce((a, b) => a + b, 0)} credits spent, ${period.emails.left} emails left`,
)
console.log(`see it in the dashboard: ${url}/dashboard`)
