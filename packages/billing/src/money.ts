/**
 * Money: integer minor units (cents) only. Every invoice line is computed as one exact fraction
 * and rounded once, half to even ("banker's rounding"), so a line's amount can be recomputed from
 * its own fields and no float ever touches an amount (lago-api #4787: float drift of -0.00342).
 */

/** Percentages are scaled by this to become exact integers (7.5% -> 7_500_000). */
const PERCENT_SCALE = 1_000_000n

/**
 * Divides `num` by `den` and rounds to the nearest integer, ties to the even neighbour.
 * @example divHalfEven(5n, 2n) // 2n  (2.5 -> 2)
 * @example divHalfEven(7n, 2n) // 4n  (3.5 -> 4)
 * @example divHalfEven(-5n, 2n) // -2n
 */
export function divHalfEven(num: bigint, den: bigint): bigint {
  if (den === 0n) return 0n
  if (den < 0n) {
    num = -num
    den = -den
  }
  let q = num / den
  let r = num % den
  if (r === 0n) return q
  // BigInt division truncates toward zero; move to floor so the remainder is in (0, den).
  if (r < 0n) {
    q -= 1n
    r += den
  }
  const twice = 2n * r
  if (twice > den) return q + 1n
  if (twice < den) return q
  return q % 2n === 0n ? q : q + 1n
}

/**
 * Rounds `num / den` half to even and returns a safe integer.
 * @example roundHalfEven(1, 2) // 0
 * @example roundHalfEven(3, 2) // 2
 */
export function roundHalfEven(num: number | bigint, den: number | bigint = 1): number {
  return Number(divHalfEven(BigInt(num), BigInt(den)))
}

/** A percentage as an exact integer numerator over `PERCENT_SCALE * 100`. */
function scaledPercent(percent: number): bigint {
  return BigInt(Math.round(percent * Number(PERCENT_SCALE)))
}

/** The fields of an invoice line that decide its amount. */
export interface Priced {
  /** Count of units (seats, blocks of `per` usage units, 1 for a flat fee); may be negative (a credit). */
  quantity: number
  /** Price of one unit for one month, minor units. */
  unitPrice: number
  /** Months the line covers (1 for usage). */
  months: number
  /** Cycle discount, percent (0-100, decimals allowed). */
  discountPercent: number
  /** Share of the period billed: `days` of the period's `of` days (upgrades, rebalances); null or absent for all of it. */
  proration?: { days: number; of: number } | null | undefined
}

/**
 * The one rounding rule of Tally: `quantity x unitPrice x months x (100 - discount)/100 x days/of`,
 * computed exactly and rounded once, half to even.
 * @example lineAmount({ quantity: 1, unitPrice: 4900, months: 3, discountPercent: 5 }) // 13965
 * @example lineAmount({ quantity: 1, unitPrice: 1000, months: 1, discountPercent: 0, proration: { days: 1, of: 8 } }) // 125
 */
export function lineAmount(p: Priced): number {
  const hundred = 100n * PERCENT_SCALE
  let num = BigInt(p.quantity) * BigInt(p.unitPrice) * BigInt(p.months) * (hundred - scaledPercent(p.discountPercent))
  let den = hundred
  if (p.proration) {
    num *= BigInt(p.proration.days)
    den *= BigInt(p.proration.of)
  }
  return roundHalfEven(num, den)
}

/**
 * The line before its cycle discount, `quantity x unitPrice x months x days/of`, rounded once,
 * half to even.
 * @example grossAmount({ quantity: 1, unitPrice: 4900, months: 3 }) // 14700
 * @example grossAmount({ quantity: -1, unitPrice: 4900, months: 1, proration: { days: 21, of: 31 } }) // -3319
 */
export function grossAmount(p: Omit<Priced, 'discountPercent'>): number {
  return lineAmount({ ...p, discountPercent: 0 })
}

/**
 * The cycle discount of a line as an amount: the gross less the line's amount. So that a reader can
 * check a line from its columns alone, `round(quantity x unitPrice x months x days/of) - discount
 * = amount` holds exactly, while the amount itself stays the one exact fraction rounded once. The
 * discount is within one minor unit of `gross x discountPercent / 100`.
 * @example discountAmount({ quantity: 1, unitPrice: 4900, months: 3, discountPercent: 5 }) // 735
 */
export function discountAmount(p: Priced): number {
  return grossAmount(p) - lineAmount(p)
}

/** Sum of amounts. */
export function sum(amounts: Iterable<number>): number {
  let total = 0
  for (const a of amounts) total += a
  return total
}
