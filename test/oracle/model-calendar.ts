/** The reference model's calendar, money and periods, by hand (./model.ts): no date or billing library. */
import { type Cycle, MONTHS, type Sub } from './model-types.js'

// ---------- calendar, by hand ----------

export const DAY_MS = 86_400_000
export function ymd(d: string): [number, number, number] {
  return [Number(d.slice(0, 4)), Number(d.slice(5, 7)), Number(d.slice(8, 10))]
}
export function fmt(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
}
export function monthLength(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28
  return [4, 6, 9, 11].includes(m) ? 30 : 31
}
/** The anchor `months` months on, its day clamped to the month's length. */
export function plusMonths(anchor: string, months: number): string {
  const [y, m, d] = ymd(anchor)
  const n = y * 12 + (m - 1) + months
  const yy = Math.floor(n / 12)
  const mm = n - yy * 12 + 1
  return fmt(yy, mm, Math.min(d, monthLength(yy, mm)))
}
export function dayIndex(d: string): number {
  const [y, m, dd] = ymd(d)
  return Date.UTC(y, m - 1, dd) / DAY_MS
}
export function nextDate(d: string): string {
  const t = new Date((dayIndex(d) + 1) * DAY_MS)
  return fmt(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate())
}
/** Calendar days from `a` (inclusive) to `b` (exclusive), counted one by one. */
export function daysFrom(a: string, b: string): number {
  let n = 0
  for (let d = a; d < b; d = nextDate(d)) n++
  return n
}

export const formats = new Map<string, Intl.DateTimeFormat>()
/** The local date of an instant in a zone, as the zone's clock shows it. */
export function dateIn(t: number, zone: string): string {
  let f = formats.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
    formats.set(zone, f)
  }
  return f.format(t)
}
export const firsts = new Map<string, number>()
/** The first instant of a local date: from well before it, forward minute by quarter hour until the date shows. */
export function firstInstant(date: string, zone: string): number {
  const k = `${zone} ${date}`
  const known = firsts.get(k)
  if (known !== undefined) return known
  const [y, m, d] = ymd(date)
  let t = Date.UTC(y, m - 1, d) - 15 * 3_600_000
  while (dateIn(t, zone) < date) t += 15 * 60_000
  // Offsets change on quarter hours; come back minute by minute to the exact first one.
  while (dateIn(t - 60_000, zone) === date) t -= 60_000
  firsts.set(k, t)
  return t
}

// ---------- money ----------

/** n / d rounded half to even (d > 0), in integers. */
export function halfEven(n: number, d: number): number {
  const q = Math.floor(n / d)
  const r = n - q * d
  const out = 2 * r < d ? q : 2 * r > d ? q + 1 : q % 2 === 0 ? q : q + 1
  return out === 0 ? 0 : out
}
/** quantity x unit x months x (100 - discount)% x days/of, rounded once. */
export function amount(quantity: number, unit: number, months: number, discount: number, days = 1, of = 1): number {
  return halfEven(quantity * unit * months * (100 - discount) * days, 100 * of)
}

// ---------- periods ----------

export interface ModelPeriod {
  index: number
  cycle: Cycle
  months: number
  startDate: string
  endDate: string
  start: number
  end: number
  days: number
  last: boolean
}

/** Every period that starts before `untilDate` (local), walked one after the other from the anchor. */
export function modelPeriods(sub: Sub, zone: string, untilDate: string): ModelPeriod[] {
  const out: ModelPeriod[] = []
  if (sub.cancelledAt !== undefined && sub.cancelledAt < sub.start) return out
  let offset = 0
  let prevStart: string | null = null
  for (let index = 0; ; index++) {
    const startDate = plusMonths(sub.start, offset)
    if (startDate >= untilDate) return out
    let cycle: Cycle = index === 0 ? sub.cycle : 'monthly'
    // A cycle bought after the previous period's start and by this one's starts a term here; the last one wins.
    const bought = sub.changes.map((c, i) => ({ c, i })).filter(({ c }) => c.cycle && (prevStart === null || c.at > prevStart) && c.at <= startDate)
    bought.sort((a, b) => (a.c.at < b.c.at ? -1 : a.c.at > b.c.at ? 1 : a.i - b.i))
    const lastBought = bought[bought.length - 1]
    if (lastBought?.c.cycle) cycle = lastBought.c.cycle
    const months = MONTHS[cycle]
    const endDate = plusMonths(sub.start, offset + months)
    const last = sub.cancelledAt !== undefined && sub.cancelledAt < endDate
    out.push({
      index,
      cycle,
      months,
      startDate,
      endDate,
      start: firstInstant(startDate, zone),
      end: firstInstant(endDate, zone),
      days: daysFrom(startDate, endDate),
      last,
    })
    if (last) return out
    prevStart = startDate
    offset += months
  }
}
