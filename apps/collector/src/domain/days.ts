/**
 * Calendar days in an account's time zone: rollups are per local day so that billing periods,
 * which start at local midnight, are made of whole days. Offsets only change on quarter hours,
 * so one lookup per quarter hour is cached.
 */
const QUARTER = 15 * 60_000
const cache = new Map<string, (ms: number) => string>()

export function dayIn(timeZone: string): (ms: number) => string {
  const known = cache.get(timeZone)
  if (known) return known
  const fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
  const memo = new Map<number, string>()
  const dayOf = (ms: number) => {
    const q = Math.floor(ms / QUARTER)
    let d = memo.get(q)
    if (d === undefined) {
      if (memo.size > 10_000) memo.clear()
      d = fmt.format(q * QUARTER)
      memo.set(q, d)
    }
    return d
  }
  cache.set(timeZone, dayOf)
  return dayOf
}
