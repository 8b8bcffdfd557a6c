/**
 * Numbers, money and times as the pages show them. One time rule for every page: days are the
 * account's calendar days, and every instant is shown in the account's time zone with the zone
 * named (the API answers carry `timezone`).
 */
import { el } from './dom.js'

/** The account's zone and today there, from the first answer that says. */
export const account = { zone: 'UTC', today: '' }

/** A count with thousands separators; `–` when there is none. */
export const fmt = (n: unknown): string => (typeof n === 'number' ? n.toLocaleString('en-US') : n == null ? '–' : String(n))

/** Minor units of a currency, as money. */
export const money = (minor: unknown, currency: string | undefined): string => {
  if (typeof minor !== 'number') return '–'
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency as string }).format(minor / 100)
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency ?? ''}`
  }
}

/** `YYYY-MM-DD HH:mm` of an instant (ms or ISO string) in the account's zone. */
export function localTime(v: number | string | undefined, withZone = false): string {
  const t = typeof v === 'number' ? v : Date.parse(v ?? '')
  if (!Number.isFinite(t)) return ''
  let parts: Intl.DateTimeFormatPart[]
  try {
    parts = new Intl.DateTimeFormat('en-CA', {
      timeZone: account.zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(new Date(t))
  } catch {
    return new Date(t).toISOString().replace('T', ' ').slice(0, 16) + (withZone ? ' UTC' : '')
  }
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${withZone ? ` ${account.zone}` : ''}`
}

/** The day of an instant in the account's zone. */
export const localDay = (v: number | string | undefined): string => localTime(v).slice(0, 10)

/** A name from the configuration with its id, or the id alone. */
export const named = (id: string, name: string | undefined): Node | string => (name ? el('span', {}, name, ' ', el('span', { class: 'muted' }, `(${id})`)) : id)
