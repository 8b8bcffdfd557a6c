/** Amounts and dates as people read them: money in its currency from integer minor units, dates in words. */

/** Digits after the point of a currency (EUR 2, JPY 0). */
const digits = (currency: string): number => new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2

/**
 * Integer minor units as money: `money(101700, 'EUR')` → "€1,017.00".
 * @example money(1017, 'EUR') // '€10.17'
 */
export function money(minor: number, currency: string): string {
  const d = digits(currency)
  return new Intl.NumberFormat(undefined, { style: 'currency', currency, minimumFractionDigits: d, maximumFractionDigits: d }).format(minor / 10 ** d)
}

export const count = (n: number): string => new Intl.NumberFormat().format(n)

/** A local calendar day (`2027-03-31`) in words: "Mar 31, 2027". */
export function day(date: string): string {
  const [y, m, d] = date.split('-').map(Number)
  return new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(
    Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1),
  )
}

/** The day before an exclusive end date: a period `[Feb 28, Mar 31)` is shown "to Mar 30". */
export function lastDay(endExclusive: string): string {
  const t = Date.parse(`${endExclusive}T00:00:00Z`) - 86_400_000
  return day(new Date(t).toISOString().slice(0, 10))
}

export const CYCLE_WORDS: Record<string, { adverb: string; noun: string }> = {
  monthly: { adverb: 'monthly', noun: 'month' },
  quarterly: { adverb: 'quarterly', noun: 'quarter' },
  semiannual: { adverb: 'every six months', noun: 'six months' },
  annual: { adverb: 'yearly', noun: 'year' },
}

export const METER_WORDS: Record<string, string> = { impressions: 'Impressions', engagements: 'Engagements', chatSessions: 'Chat sessions', alerts: 'Alerts' }
