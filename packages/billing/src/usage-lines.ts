/** The usage and contacts excess lines of a closed period, moved whole from ./rating.ts. */
import type { Meter, Plan } from '@tally/protocol'
import type { Period } from './period.js'
import type { Meters } from './meters.js'
import { RATED_METERS, METER_LABELS, type InvoiceLine, periodRef, discountFor, contactRange, priced } from './rating.js'

/**
 * Usage lines of a closed period: per meter, the started blocks of `per` units beyond the included
 * quota (included x months), at the overage price. Meters without an overage price are not charged.
 * @example usageLines(plan, period, { ...emptyMeters(), impressions: 100_001 }) // one line: 1 block of 1000 at 40
 */
export function usageLines(plan: Plan, period: Period, m: Meters): InvoiceLine[] {
  const out: InvoiceLine[] = []
  for (const meter of RATED_METERS) {
    const over = overage(plan, period, meter, m[meter])
    if (!over) continue
    out.push(
      priced({
        kind: 'usage',
        meter,
        months: 1,
        discountPercent: 0,
        period: periodRef(period),
        description: `${METER_LABELS[meter]}: ${m[meter]} used, ${over.included} included, ${over.excess} over, per ${over.per}`,
        quantity: over.blocks,
        unitPrice: over.price,
      }),
    )
  }
  return out
}

/** Overage of one meter in a period, or null when nothing is charged. */
export function overage(
  plan: Plan,
  period: Pick<Period, 'months'>,
  meter: Meter,
  used: number,
): { included: number; excess: number; per: number; blocks: number; price: number } | null {
  const included = (plan.included[meter] ?? 0) * period.months
  const price = plan.overage[meter]
  const excess = used - included
  if (!price || excess <= 0) return null
  // "partial units round up": 1001 impressions over, per 1000, is 2 blocks.
  return { included, excess, per: price.per, blocks: Math.ceil(excess / price.per), price: price.price }
}

/**
 * The contacts line of a closed period whose maximum reading passed the paid range (seed 004:
 * "Every month our system will check whether you exceeded your contact limit and if so, the system
 * will charge you for additional number of contacts you have"): the difference of the two ranges.
 */
export function contactsExcessLine(plan: Plan, period: Period, paid: number, max: number | null): InvoiceLine | null {
  if (max === null) return null
  const from = contactRange(plan, paid)
  const to = contactRange(plan, max)
  if (to.index <= from.index || to.price <= from.price) return null
  return priced({
    kind: 'contacts_excess',
    meter: 'contacts',
    months: period.months,
    discountPercent: discountFor(plan, period.cycle),
    period: periodRef(period),
    description: `Contacts above the paid range: ${max} (paid for ${paid})`,
    quantity: 1,
    unitPrice: to.price - from.price,
  })
}
