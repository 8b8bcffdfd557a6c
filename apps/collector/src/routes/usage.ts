/**
 * Server-to-server usage and credits (docs/protocol.md §4, the account's secret key): HTTP only.
 * The routes validate and shape; every decision that depends on stored state is the usage
 * service's (../services/usage.ts), taken inside the transaction that writes it, so a 2xx means
 * committed. docs/billing-api.md documents the answers.
 */
import { Hono } from 'hono'
import { MAX_AGE_MS, MAX_FUTURE_MS, parseUsageEvent, type UsageCode, type UsageResult } from '@tally/protocol'
import { fail } from '../errors.js'
import { accountWriter } from '../middleware/auth.js'
import { readJson } from '../middleware/body.js'
import { localDayOf } from '@tally/billing'
import { valid } from './api/define.js'
import { CreditPurchase, CreditTransfer, EmailPurchase, UsageEnvelope } from './api/schemas.js'
import { whoOf } from './who.js'
import type { AppDeps, TallyEnv } from '../context.js'
import type { UsageInput } from '../services/store.js'
import { purchaseInvoiceKey } from '../services/ledger-book.js'

export function usageRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config } = deps
  const app = new Hono<TallyEnv>()
  const writer = accountWriter(config)
  const who = whoOf(config)

  app.post('/v1/usage', writer, async (c) => {
    const receivedAt = clock.now()
    const { id: account, billing } = who(c)
    // The envelope refuses the request (`invalid_batch`); each event is checked alone below.
    const { events: raw } = valid(UsageEnvelope, await readJson(c), 'invalid_batch')
    const dayOf = localDayOf(billing.timezone)
    const results: UsageResult[] = []
    const events: UsageInput[] = []
    const slots: number[] = []
    for (const item of raw) {
      const r = parseUsageEvent(item)
      const given = (item as { id?: unknown } | null)?.id
      const id = r.ok ? r.value.id : typeof given === 'string' ? given.slice(0, 64) : ''
      const reject = (code: UsageCode) => results.push({ id, status: 'rejected', code })
      if (!r.ok) {
        reject('invalid_event')
        continue
      }
      const e = r.value
      // Server events carry no `sentAt` (docs/protocol.md §4): `ts` is the event's instant on the vendor's server.
      if (e.ts - receivedAt > MAX_FUTURE_MS) {
        reject('event_in_future')
        continue
      }
      if (receivedAt - e.ts > MAX_AGE_MS) {
        reject('event_too_old')
        continue
      }
      const at = { id: e.id, time: e.ts, day: dayOf(e.ts) }
      if (e.type === 'action' && e.member !== undefined && !(billing.members ?? []).includes(e.member)) {
        reject('unknown_member')
        continue
      }
      slots.push(results.length)
      results.push({ id, status: 'accepted' })
      events.push(
        e.type === 'alert'
          ? { ...at, type: 'alert' }
          : e.type === 'action'
            ? { ...at, type: 'action', action: e.action, quantity: e.quantity, member: e.member }
            : { ...at, type: e.type, count: e.count },
      )
    }
    if (events.length > 0) {
      const outcomes = await store.recordUsage({ account, billing, receivedAt, events })
      outcomes.forEach((o, k) => {
        const slot = slots[k] as number
        results[slot] = { id: results[slot]?.id ?? '', ...o }
      })
    }
    return c.json({ results })
  })

  app.post('/v1/credits/purchase', writer, async (c) => {
    const at = clock.now()
    const { id: account, billing } = who(c)
    const { id, pack } = valid(CreditPurchase, await readJson(c))
    const r = await store.creditRequest({ kind: 'purchase', account, billing, id, pack, at })
    if (!r.ok) throw fail('invalid_request', `pack: the plan has no credit pack "${pack}"`)
    // A repeat answers what was stored (its pack), not what the repeat says.
    return c.json({
      id,
      status: r.duplicate ? 'duplicate' : 'accepted',
      pack: r.pack ?? pack,
      credits: r.credits,
      balance: r.balance,
      invoice: purchaseInvoiceKey(id),
    })
  })

  app.post('/v1/credits/transfer', writer, async (c) => {
    const at = clock.now()
    const { id: account, billing } = who(c)
    const { id, to, credits } = valid(CreditTransfer, await readJson(c))
    const r = await store.creditRequest({ kind: 'transfer', account, billing, id, to, credits, at })
    if (!r.ok && r.code === 'unknown_member') throw fail('invalid_request', `to: "${to}" is not a member of the account`)
    // A refusal for want of credits answers like a refused usage event: 200, status and code.
    if (!r.ok) return c.json({ id, status: 'rejected', code: r.code, to, credits, balance: r.balance })
    // What moved, by kind of lot (docs/billing.md, "Credits"): purchased credits go first.
    const moved = r.moved ?? { purchased: 0, free: 0 }
    return c.json({ id, status: r.duplicate ? 'duplicate' : 'accepted', to: r.to ?? to, credits: r.credits, balance: r.balance, moved })
  })

  /** An email pack of the plan (docs/billing.md, "Email grants"): more emails this month, invoiced like a credit pack. */
  app.post('/v1/emails/purchase', writer, async (c) => {
    const at = clock.now()
    const { id: account, billing } = who(c)
    const { id, pack } = valid(EmailPurchase, await readJson(c))
    const r = await store.grantEmails({ kind: 'purchase', account, billing, id, pack, at })
    if (!r.ok && r.code === 'unknown_pack') throw fail('invalid_request', `pack: the plan has no email pack "${pack.slice(0, 64)}"`)
    if (!r.ok) throw fail('invalid_request', 'the account has no current period (its subscription has not started or has ended)')
    const g = r.grant
    return c.json({ id, status: r.duplicate ? 'duplicate' : 'accepted', pack: g.pack, emails: g.emails, month: g.month, invoice: `emails:purchase:${id}` })
  })

  return app
}
