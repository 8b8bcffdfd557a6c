/**
 * Drives one generated history through the collector's services (usage, credit requests, the
 * billing run, on whichever engine the store runs) and through the model, run by run, and says
 * where they disagree: each run must finalize the same invoices, line by line to the minor unit.
 */
import { localDayOf, type BillingAccount, type Invoice } from '@tally/billing'
import type { Store } from '../../apps/collector/src/services/store.js'
import { dateIn, modelRun, type ModelInvoice, type Seen, type Sub } from './model.js'
import { MODEL_PLANS, toPlan, type History } from './history.js'

const PLANS = Object.fromEntries(Object.entries(MODEL_PLANS).map(([id, p]) => [id, toPlan(p)])) as unknown as BillingAccount['plans']

export interface Verdict {
  invoices: number
  runs: number
  disagreement: string | null
}

const METERED = new Set(['usage', 'adjustment', 'contacts_excess'])
/** A line as both sides state it: kind, period, meter or product, amount. */
const realLine = (l: Invoice['lines'][number]) =>
  `${l.kind}|${l.kind === 'credits' ? '' : l.period.index}|${METERED.has(l.kind) ? (l.meter ?? '') : ''}|${l.product ?? ''}|${l.amount}`
const modelLine = (l: ModelInvoice['lines'][number]) =>
  `${l.kind}|${l.kind === 'credits' ? '' : l.period}|${METERED.has(l.kind) ? (l.meter ?? '') : ''}|${l.product ?? ''}|${l.amount}`
const realForm = (i: Invoice) => `${i.key} total ${i.total}: ${i.lines.map(realLine).sort().join(', ')}`
const modelForm = (i: ModelInvoice) => `${i.key} total ${i.total}: ${i.lines.map(modelLine).sort().join(', ')}`

function billingOf(h: History, sub: Sub): BillingAccount {
  return {
    timezone: h.zone,
    plans: PLANS,
    members: ['alice'],
    subscription: {
      plan: sub.plan,
      cycle: sub.cycle,
      start: sub.start,
      seats: sub.seats,
      contacts: sub.contacts,
      products: sub.products,
      changes: sub.changes,
      ...(sub.cancelledAt === undefined ? {} : { cancelledAt: sub.cancelledAt }),
    },
  }
}

export async function drive(store: Store, account: string, h: History): Promise<Verdict> {
  let sub = h.before
  const dayOf = localDayOf(h.zone)
  const seen: Seen = { sub, zone: h.zone, plans: MODEL_PLANS, days: new Map(), purchases: [] }
  const memory = new Map<string, ModelInvoice>()
  let invoices = 0
  let runs = 0
  for (const x of h.happenings) {
    const billing = billingOf(h, sub)
    if (x.kind === 'edit') {
      sub = h.after
      seen.sub = sub
    } else if (x.kind === 'alerts') {
      const events = Array.from({ length: x.count }, (_, j) => ({ id: `${x.id}.${j}`, type: 'alert' as const, time: x.ts, day: dayOf(x.ts) }))
      await store.recordUsage({ account, billing, receivedAt: x.arrives, events })
      const d = dateIn(x.ts, h.zone)
      const row = seen.days.get(d) ?? { alerts: 0 }
      row.alerts += x.count
      seen.days.set(d, row)
    } else if (x.kind === 'contacts') {
      await store.recordUsage({
        account,
        billing,
        receivedAt: x.arrives,
        events: [{ id: x.id, type: 'contacts', time: x.ts, day: dayOf(x.ts), count: x.count }],
      })
      const d = dateIn(x.ts, h.zone)
      const row = seen.days.get(d) ?? { alerts: 0 }
      row.contacts = Math.max(row.contacts ?? x.count, x.count)
      seen.days.set(d, row)
    } else if (x.kind === 'purchase') {
      await store.creditRequest({ kind: 'purchase', account, billing, id: x.id, pack: 'small', at: x.arrives })
      seen.purchases.push({ id: x.id, pack: 'small', at: x.arrives })
    } else if (x.kind === 'transfer') {
      await store.creditRequest({ kind: 'transfer', account, billing, id: x.id, to: 'alice', credits: x.credits, at: x.arrives })
    } else {
      runs++
      const run = await store.billingRun({ account, billing, asOf: x.arrives, at: x.arrives })
      const real = await store.invoices(
        account,
        run.invoices.map((i) => i.key),
      )
      const model = modelRun(seen, x.arrives, memory)
      invoices += real.length
      const a = real.map(realForm).sort()
      const b = model.map(modelForm).sort()
      if (a.join('\n') !== b.join('\n')) {
        const when = new Date(x.arrives).toISOString()
        return {
          invoices,
          runs,
          disagreement: `run at ${when}:\n  collector: ${a.join('\n             ') || '(none)'}\n  model:     ${b.join('\n             ') || '(none)'}`,
        }
      }
    }
  }
  return { invoices, runs, disagreement: null }
}
