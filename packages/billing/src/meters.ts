/**
 * Meters: what a period counts. The collector keeps daily rollups (one row per local day, and per
 * container or subject if it likes); a period's meters are the sum of its days, contacts the
 * maximum. The helpers below are the counting rules themselves, quoted from the seeds, so that a
 * raw event log can be rolled up by exactly the same rules (and replayed in any order).
 */
import type { BrowserEvent, UsageEvent } from '@tally/protocol'
import { CHAT_IDLE_MS, CHAT_UNIT_MS } from '@tally/protocol'
import { localDate, type Period } from './period.js'
import { chatSessions, foldConversation } from './chat.js'
export { chatSessions }

/** A rollup row of one local day (`YYYY-MM-DD` in the account's zone). Absent fields count 0. */
export interface UsageRow {
  day: string
  impressions?: number | undefined
  engagements?: number | undefined
  chatSessions?: number | undefined
  alerts?: number | undefined
  emails?: number | undefined
  /** The highest contacts reading of the day (a gauge). */
  contacts?: number | undefined
}

/** A period's usage. */
export interface Meters {
  impressions: number
  engagements: number
  chatSessions: number
  alerts: number
  emails: number
  /** Maximum contacts reading in the period, or null when nothing was reported. */
  contacts: number | null
  /** Credits spent in the period, by action (from the credit log). */
  credits: Record<string, number>
}

/** Meters with nothing counted. */
export function emptyMeters(): Meters {
  return { impressions: 0, engagements: 0, chatSessions: 0, alerts: 0, emails: 0, contacts: null, credits: {} }
}

/** Fifteen minutes, the length of one chat usage session (defined once, in @tally/protocol). */
export const CHAT_SESSION_MS = CHAT_UNIT_MS
/** A conversation with no event for this long ended at its last event. */
export const CONVERSATION_IDLE_MS = CHAT_IDLE_MS

/** One event of a conversation. */
export interface ChatPoint {
  ts: number
  phase: 'start' | 'ping' | 'handoff' | 'resume' | 'end'
}

/**
 * Bot time of one conversation from its events alone (a log replayed after the fact, where every
 * event counts as received at its own time): the fold of ./chat.ts, the collector's own rule.
 * @example conversationBotMs([{ ts: 0, phase: 'start' }, { ts: 600_000, phase: 'handoff' }, { ts: 900_000, phase: 'resume' }, { ts: 1_200_000, phase: 'end' }]) // 900_000
 */
export function conversationBotMs(points: readonly ChatPoint[]): number {
  if (points.length === 0) return 0
  return foldConversation(points.map((p, i) => ({ id: String(i).padStart(6, '0'), phase: p.phase, time: p.ts, receivedAt: p.ts }))).botMs
}

/**
 * Distinct `(session, subject)` pairs. Seed 000: a campaign "seen ten times by a visitor ... counts
 * as just one impression per session", and "five valid and activated Crobox campaigns on a page ...
 * resulting in five impressions". The same rule counts engagements per (session, advisor).
 * @example uniquePerSession([{ session: 's', subject: 'a' }, { session: 's', subject: 'a' }]) // 1
 */
export function uniquePerSession(sightings: Iterable<{ session: string; subject: string }>): number {
  const seen = new Set<string>()
  for (const s of sightings) seen.add(`${s.session}\u0000${s.subject}`)
  return seen.size
}

/**
 * The email quota of a period. Seed 004: "you can send 4 times more emails than the number of
 * contacts you paid for. Once the limit has been reached, you won't be able to send more emails."
 * @example emailQuota(4, 1000) // 4000
 */
export function emailQuota(emailsPerContact: number, paidContacts: number): number {
  return emailsPerContact * paidContacts
}

/**
 * Whether a send of `count` emails fits: a send that would pass the quota is refused whole.
 * @example checkEmails(3990, 20, 4000) // { ok: false, code: 'quota_exceeded', left: 10 }
 */
export function checkEmails(sent: number, count: number, quota: number): { ok: true; left: number } | { ok: false; code: 'quota_exceeded'; left: number } {
  const left = Math.max(0, quota - sent)
  return count <= left ? { ok: true, left: left - count } : { ok: false, code: 'quota_exceeded', left }
}

/**
 * A period's meters from rollup rows (rows of other days are ignored) and the credit log's spends.
 * @example meters([{ day: '2026-07-12', impressions: 3 }], period).impressions // 3
 */
export function meters(
  rows: Iterable<UsageRow>,
  period: Pick<Period, 'startDate' | 'endDate' | 'start' | 'end'>,
  spends: Iterable<{ type: string; at: number; credits: number; action?: string }> = [],
): Meters {
  const m = emptyMeters()
  const { startDate, endDate } = period
  for (const r of rows) {
    if (r.day < startDate || r.day >= endDate) continue
    addRow(m, r)
  }
  for (const e of spends) {
    if (e.type !== 'spend' || e.at < period.start || e.at >= period.end || e.action === undefined) continue
    m.credits[e.action] = (m.credits[e.action] ?? 0) + e.credits
  }
  return m
}

/** Adds one rollup row to running meters. */
export function addRow(m: Meters, r: UsageRow): void {
  m.impressions += r.impressions ?? 0
  m.engagements += r.engagements ?? 0
  m.chatSessions += r.chatSessions ?? 0
  m.alerts += r.alerts ?? 0
  m.emails += r.emails ?? 0
  if (r.contacts !== undefined && (m.contacts === null || r.contacts > m.contacts)) m.contacts = r.contacts
}

/** A raw event as the collector stored it (ids are unique per container). */
export type MeterEvent = (BrowserEvent | UsageEvent) & { container?: string | undefined }

/**
 * Daily rollup rows from raw events, by the counting rules: a repeated id counts once, an
 * impression once per (session, campaign), an engagement once per (session, advisor), a
 * conversation's sessions on the day it started, an alert each, emails summed, contacts the day's
 * maximum. The result does not depend on the order or repetition of the events.
 * @example rollupEvents([{ id: 'a', type: 'alert', alert: 'daily', ts: 0 }], 'UTC') // [{ day: '1970-01-01', alerts: 1 }]
 */
export function rollupEvents(events: Iterable<MeterEvent>, zone: string): UsageRow[] {
  const sorted = [...events].sort((a, b) => a.ts - b.ts || cmp(a.id, b.id) || cmp(a.type, b.type))
  const ids = new Set<string>()
  const pairs = new Set<string>()
  const conversations = new Map<string, ChatPoint[]>()
  const rows = new Map<string, UsageRow>()
  const row = (ts: number): UsageRow => {
    const day = localDate(ts, zone)
    let r = rows.get(day)
    if (!r) {
      r = { day }
      rows.set(day, r)
    }
    return r
  }
  for (const e of sorted) {
    const scope = e.container ?? ''
    const key = `${scope}\u0000${e.id}`
    if (ids.has(key)) continue
    ids.add(key)
    switch (e.type) {
      case 'impression':
      case 'engagement': {
        const subject = e.type === 'impression' ? e.campaign : e.advisor
        const pair = `${e.type}\u0000${scope}\u0000${e.session}\u0000${subject}`
        if (pairs.has(pair)) break
        pairs.add(pair)
        const r = row(e.ts)
        if (e.type === 'impression') r.impressions = (r.impressions ?? 0) + 1
        else r.engagements = (r.engagements ?? 0) + 1
        break
      }
      case 'chat': {
        const conv = `${scope}\u0000${e.conversation}`
        const points = conversations.get(conv) ?? []
        points.push({ ts: e.ts, phase: e.phase })
        conversations.set(conv, points)
        break
      }
      case 'alert': {
        const r = row(e.ts)
        r.alerts = (r.alerts ?? 0) + 1
        break
      }
      case 'email': {
        const r = row(e.ts)
        r.emails = (r.emails ?? 0) + e.count
        break
      }
      case 'contacts': {
        const r = row(e.ts)
        r.contacts = Math.max(r.contacts ?? 0, e.count)
        break
      }
      case 'action':
        // Credits are counted by the credit log, which names the lots each spend drew from.
        break
    }
  }
  for (const points of conversations.values()) {
    const sessions = chatSessions(conversationBotMs(points))
    if (sessions === 0) continue
    const first = points[0]
    if (!first) continue
    const r = row(first.ts)
    r.chatSessions = (r.chatSessions ?? 0) + sessions
  }
  return [...rows.values()].sort((a, b) => cmp(a.day, b.day))
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
