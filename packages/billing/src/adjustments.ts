/**
 * What a closed period costs in arrears, and the late-usage adjustments of the unsettled periods
 * (docs/rules.md §5, "Corrections" and "Settled periods"), moved whole from ./invoice.ts.
 */
import { contactsExcessLine, periodRef, priced, usageLines, type InvoiceLine } from './rating.js'
import type { PeriodState } from './invoice-types.js'

/** What a closed period's usage costs now: usage lines and the contacts excess, by meter. */
export function arrears(ps: PeriodState): InvoiceLine[] {
  const plan = ps.end.plan
  const lines = usageLines(plan, ps.period, ps.meters)
  const excess = contactsExcessLine(plan, ps.period, ps.contactsEnd, ps.meters.contacts)
  if (excess) lines.push(excess)
  return lines
}

/**
 * Late usage: the difference between what each earlier billed period costs now and what was billed,
 * for the unsettled periods (from `from` on) only: a settled one saw all of its late usage.
 */
export function adjustments(
  stateOf: (index: number) => PeriodState | undefined,
  from: number,
  k: number,
  billed: Map<number, Map<string, { quantity: number; amount: number }>>,
): InvoiceLine[] {
  const lines: InvoiceLine[] = []
  for (let q = from; q <= k - 2; q++) {
    const ps = stateOf(q)
    if (!ps) continue
    const now = new Map<string, InvoiceLine>()
    for (const l of arrears(ps)) now.set(l.meter ?? '', l)
    const before = billed.get(q) ?? new Map<string, { quantity: number; amount: number }>()
    const meters = new Set([...now.keys(), ...before.keys()])
    for (const meter of [...meters].sort()) {
      const expected = now.get(meter)
      const was = before.get(meter) ?? { quantity: 0, amount: 0 }
      const quantity = (expected?.quantity ?? 0) - was.quantity
      const amount = (expected?.amount ?? 0) - was.amount
      // Nothing to correct when the period costs what was billed, whatever the quantities of the
      // lines billed add up to (an excess and an adjustment of it are not units of one price).
      if (amount === 0) continue
      const common = {
        kind: 'adjustment' as const,
        meter: meter as InvoiceLine['meter'],
        period: periodRef(ps.period),
        description: `Late usage: ${expected?.description ?? meter} (billed before: ${was.amount})`,
      }
      // The difference priced like the line it corrects when that gives the difference exactly
      // (more blocks at the same price); else one unit of the difference, so the line still checks.
      const like = expected
        ? priced({
            ...common,
            quantity,
            unitPrice: expected.unitPrice,
            months: expected.months,
            discountPercent: expected.discountPercent,
            proration: expected.proration,
          })
        : null
      lines.push(like && like.amount === amount ? like : priced({ ...common, quantity: 1, unitPrice: amount, months: 1, discountPercent: 0 }))
    }
  }
  return lines
}
