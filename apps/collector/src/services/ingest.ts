/**
 * Browser events into billable units, conversations and daily counts: the counting rules of
 * docs/rules.md ("Impressions and engagements", "Chat sessions"), decided here once for every
 * engine. Runs inside the request's transaction, so the units, the conversations and the rollups
 * that count them are written together or not at all.
 *
 * Work per request is bounded by the request: one batch insert per kind of row, one read of the
 * touched conversations' folded states, and a fold of only the new events (a conversation is
 * folded again from its stored events only when an event arrives out of order, and a
 * conversation holds at most MAX_CONVERSATION_EVENTS).
 */
import { MAX_CONVERSATION_EVENTS, type ChatPhase } from '@tally/protocol'
import { conversationSessions, conversationStatus, foldMore, localDayOf, type PhaseEvent } from '@tally/billing'
import type { ChatEventRow, ConversationRecord, Repository, RollupDelta, SubjectKind, UnitRow } from '../engines/repository.js'

/**
 * One browser event that passed validation and the catalog check. `suspicious`: its session is
 * over the per-address cap (../domain/sessions.ts): a new unit counts as `suspicious`, not billed.
 */
export type IngestEvent = (
  | { id: string; type: 'impression'; session: string; subject: string; time: number }
  | { id: string; type: 'engagement'; session: string; subject: string; time: number }
  | { id: string; type: 'chat'; session: string; subject: string; time: number; conversation: string; phase: ChatPhase }
) & { suspicious?: boolean }

export interface IngestRequest {
  account: string
  container: string
  receivedAt: number
  /** The account's IANA time zone: rollup days are its calendar days. */
  timeZone: string
  events: IngestEvent[]
}

/** Per event, in request order: counted, already known (same id or same billable unit), or refused. */
export type IngestStatus = 'accepted' | 'duplicate' | 'conversation_too_long'

/** Rollup changes of one request, summed per (day, kind, subject). */
class Deltas {
  private readonly map = new Map<string, RollupDelta>()
  constructor(private readonly container: string) {}
  add(day: string, kind: SubjectKind, subject: string, units: number): void {
    if (units === 0) return
    const key = `${day}\u0000${kind}\u0000${subject}`
    const d = this.map.get(key)
    if (d) d.units += units
    else this.map.set(key, { day, container: this.container, kind, subject, units })
  }
  rows(): RollupDelta[] {
    return [...this.map.values()].filter((d) => d.units !== 0)
  }
}

export async function ingest(tx: Repository, req: IngestRequest): Promise<IngestStatus[]> {
  const { account, container, receivedAt } = req
  const dayOf = localDayOf(req.timeZone)
  const statuses: IngestStatus[] = new Array<IngestStatus>(req.events.length).fill('duplicate')
  const deltas = new Deltas(container)

  // Impressions and engagements: the unit (container, session, subject) is the idempotency key too,
  // so a retried event, a second tab and a second sighting are all the same "not new".
  const units: UnitRow[] = []
  const unitSlots: number[] = []
  const unitSuspicious: boolean[] = []
  const chats: Extract<IngestEvent, { type: 'chat' }>[] = []
  const chatSlots: number[] = []
  req.events.forEach((e, i) => {
    if (e.type === 'chat') {
      chats.push(e)
      chatSlots.push(i)
    } else {
      units.push({ kind: e.type === 'impression' ? 'campaign' : 'advisor', session: e.session, subject: e.subject, eventId: e.id, time: e.time })
      unitSlots.push(i)
      unitSuspicious.push(e.suspicious === true)
    }
  })
  if (units.length > 0) {
    const fresh = await tx.insertUnits(account, container, units)
    fresh.forEach((isNew, k) => {
      const u = units[k] as UnitRow
      statuses[unitSlots[k] as number] = isNew ? 'accepted' : 'duplicate'
      if (!isNew) return
      // A suspicious unit is stored (a retry stays a duplicate) but counted apart from the billed kinds.
      if (unitSuspicious[k]) deltas.add(dayOf(u.time), 'suspicious', `${u.kind}:${u.subject}`, 1)
      else deltas.add(dayOf(u.time), u.kind, u.subject, 1)
    })
  }

  if (chats.length > 0) await chat(tx, req, chats, chatSlots, statuses, deltas)

  const rows = deltas.rows()
  if (rows.length > 0) await tx.addRollups(account, rows)
  return statuses
}

async function chat(
  tx: Repository, req: IngestRequest, events: Extract<IngestEvent, { type: 'chat' }>[], slots: number[],
  statuses: IngestStatus[], deltas: Deltas,
): Promise<void> {
  const { account, container, receivedAt } = req
  const dayOf = localDayOf(req.timeZone)
  const ids = [...new Set(events.map((e) => e.conversation))]
  // Folding reads the stored state and writes it back: two collectors folding events of one
  // conversation at once would each miss the other's. The account lock makes them take turns.
  await tx.lockAccount(account)
  const before = new Map((await tx.conversationRecords(account, container, ids)).map((r) => [r.conversation, r]))

  // A conversation takes at most MAX_CONVERSATION_EVENTS events; the rest are refused with a code.
  const room = new Map(ids.map((id) => [id, MAX_CONVERSATION_EVENTS - (before.get(id)?.state.events ?? 0)]))
  const rows: ChatEventRow[] = []
  const rowSlots: number[] = []
  events.forEach((e, k) => {
    const left = room.get(e.conversation) ?? 0
    if (left <= 0) {
      statuses[slots[k] as number] = 'conversation_too_long'
      return
    }
    room.set(e.conversation, left - 1)
    rows.push({ conversation: e.conversation, eventId: e.id, phase: e.phase, time: e.time, receivedAt })
    rowSlots.push(k)
  })
  if (rows.length === 0) return
  const fresh = await tx.insertChatEvents(account, container, rows)

  const added = new Map<string, { first: (typeof events)[number]; events: PhaseEvent[] }>()
  fresh.forEach((isNew, j) => {
    const k = rowSlots[j] as number
    statuses[slots[k] as number] = isNew ? 'accepted' : 'duplicate'
    if (!isNew) return
    const e = events[k] as (typeof events)[number]
    const r = rows[j] as ChatEventRow
    const entry = added.get(e.conversation) ?? { first: e, events: [] }
    entry.events.push({ id: r.eventId, phase: r.phase, time: r.time, receivedAt: r.receivedAt })
    added.set(e.conversation, entry)
  })

  const records: ConversationRecord[] = []
  for (const [conversation, { first, events: fresh }] of added) {
    const prev = before.get(conversation)
    const state = await foldMore(prev?.state ?? null, fresh, () => tx.chatEvents(account, container, conversation))
    // The bot and session named by the conversation's first stored event stay its own.
    const bot = prev?.bot ?? first.subject
    // So does whether it was opened by a suspicious session: its sessions are then never billed.
    const suspicious = prev ? prev.suspicious === true : first.suspicious === true
    const [kind, subject] = suspicious ? ['suspicious', `bot:${bot}`] as const : ['bot', bot] as const
    const sessions = conversationSessions(state)
    const day = dayOf(state.startedAt)
    // Sessions are billed on the day the conversation started; a late earlier event may move it.
    if (prev) deltas.add(prev.day, kind, subject, -prev.sessions)
    deltas.add(day, kind, subject, sessions)
    records.push({
      conversation, bot, session: prev?.session ?? first.session, day, sessions,
      status: conversationStatus(state, receivedAt), state, suspicious,
    })
  }
  if (records.length > 0) await tx.saveConversations(account, container, records)
}
