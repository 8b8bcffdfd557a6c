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
import { CHAT_BACKDATE_MS, CHAT_REORDER_EVENTS, MAX_CONVERSATION_EVENTS, type ChatPhase } from '@tally/protocol'
import { comparePhaseEvents, conversationSessions, conversationStatus, foldSteps, localDayOf, type ConversationState, type PhaseEvent } from '@tally/billing'
import type { ChatEventRow, ConversationRecord, Repository, RollupDelta, SubjectKind, TailEvent, UnitRow } from '../engines/repository.js'

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
export type IngestStatus =
  | 'accepted'
  | 'duplicate'
  | 'conversation_too_long'
  | 'conversation_session_mismatch'
  | 'event_before_conversation'
  | 'event_out_of_order'
  | 'over_session_cap'

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
  const { account, container } = req
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
  tx: Repository,
  req: IngestRequest,
  events: Extract<IngestEvent, { type: 'chat' }>[],
  slots: number[],
  statuses: IngestStatus[],
  deltas: Deltas,
): Promise<void> {
  const { account, container, receivedAt } = req
  const dayOf = localDayOf(req.timeZone)
  const ids = [...new Set(events.map((e) => e.conversation))]
  // Folding reads the stored state and writes it back: two collectors folding events of one
  // conversation at once would each miss the other's. The account lock makes them take turns.
  await tx.lockAccount(account)
  const before = new Map((await tx.conversationRecords(account, container, ids)).map((r) => [r.conversation, r]))

  // Who a conversation belongs to (docs/security.md, "Conversations"): the session that opened it,
  // in its container, and whether that session was over its address's cap.
  const owner = new Map<string, { session: string; suspicious: boolean }>()
  for (const [id, r] of before) owner.set(id, { session: r.session, suspicious: r.suspicious === true })
  // A conversation takes at most MAX_CONVERSATION_EVENTS events; the rest are refused with a code.
  const room = new Map(ids.map((id) => [id, MAX_CONVERSATION_EVENTS - (before.get(id)?.state.events ?? 0)]))
  // The room is counted after deduplication: a retried event of a full conversation is a duplicate,
  // and an id repeated within the request takes no second place. A retry is dated at or before the
  // stored state's latest event, and an event may land at most CHAT_REORDER_EVENTS back, so only
  // the tail of a full conversation that such an event names is read (an index read of a few rows,
  // never the whole conversation); an older retry is refused as the room is, and was counted once.
  const asked = new Map<string, number>()
  for (const e of events) asked.set(e.conversation, (asked.get(e.conversation) ?? 0) + 1)
  const maybeRetried = new Set(
    events
      .filter((e) => {
        const prev = before.get(e.conversation)
        return prev !== undefined && e.time <= prev.state.latestAt
      })
      .map((e) => e.conversation),
  )
  const full = ids.filter((id) => (room.get(id) ?? 0) < (asked.get(id) ?? 0) && maybeRetried.has(id))
  const stored = new Set<string>()
  for (const id of full) for (const e of await tx.chatTail(account, container, id, CHAT_REORDER_EVENTS + 1)) stored.add(`${id}\n${e.id}`)
  const taken = new Set<string>()
  const kept: number[] = []
  // The refusal of an event, or undefined when it is kept (its place then taken).
  const refusal = (e: (typeof events)[number]): IngestStatus | undefined => {
    let own = owner.get(e.conversation)
    if (!own) {
      own = { session: e.session, suspicious: e.suspicious === true }
      owner.set(e.conversation, own)
    }
    // Another session naming the conversation (a guessed or leaked id) can neither fill nor shape it.
    if (e.session !== own.session) return 'conversation_session_mismatch'
    // Over the hourly cap, an event never extends a billed conversation (it may only be counted in a
    // conversation it opened itself, as suspicious).
    if (e.suspicious === true && !own.suspicious) return 'over_session_cap'
    const prev = before.get(e.conversation)
    // Nor may it move the conversation's start back past the clock-skew allowance (an old handoff or end would close it).
    if (prev && e.time < prev.state.startedAt - CHAT_BACKDATE_MS) return 'event_before_conversation'
    const key = `${e.conversation}\n${e.id}`
    if (stored.has(key)) return 'duplicate'
    const repeat = taken.has(key)
    const left = room.get(e.conversation) ?? 0
    if (!repeat && left <= 0) return 'conversation_too_long'
    taken.add(key)
    if (!repeat) room.set(e.conversation, left - 1)
    return undefined
  }
  for (const [k, e] of events.entries()) {
    const refused = refusal(e)
    if (refused) statuses[slots[k] as number] = refused
    else kept.push(k)
  }
  if (kept.length === 0) return

  // Per conversation: in order (every event after the stored state's latest, or a new
  // conversation) folds onto the stored state; otherwise the event lands among the last
  // CHAT_REORDER_EVENTS stored events and folds from the state stored with its predecessor.
  const byConversation = new Map<string, number[]>()
  for (const k of kept) {
    const e = events[k] as (typeof events)[number]
    const list = byConversation.get(e.conversation) ?? []
    list.push(k)
    byConversation.set(e.conversation, list)
  }
  const records: ConversationRecord[] = []
  for (const [conversation, ks] of byConversation) {
    const prev = before.get(conversation)
    const first = events[ks[0] as number] as (typeof events)[number]
    const late = prev !== undefined && ks.some((k) => (events[k] as (typeof events)[number]).time <= prev.state.latestAt)
    const state = late
      ? await foldLate(tx, req, conversation, prev, ks, events, slots, statuses)
      : await foldInOrder(tx, req, conversation, prev?.state ?? null, ks, events, slots, statuses)
    if (!state) continue
    // The bot and session named by the conversation's first stored event stay its own.
    const bot = prev?.bot ?? first.subject
    // So does whether it was opened by a suspicious session: its sessions are then never billed.
    const suspicious = prev ? prev.suspicious === true : first.suspicious === true
    const [kind, subject] = suspicious ? (['suspicious', `bot:${bot}`] as const) : (['bot', bot] as const)
    const sessions = conversationSessions(state)
    const day = dayOf(state.startedAt)
    // Sessions are billed on the day the conversation started; a late earlier event may move it.
    if (prev) deltas.add(prev.day, kind, subject, -prev.sessions)
    deltas.add(day, kind, subject, sessions)
    records.push({
      conversation,
      bot,
      session: prev?.session ?? first.session,
      day,
      sessions,
      status: conversationStatus(state, receivedAt),
      state,
      suspicious,
    })
  }
  if (records.length > 0) await tx.saveConversations(account, container, records)
}

type ChatEvent = Extract<IngestEvent, { type: 'chat' }>
const phaseEvent = (e: ChatEvent, receivedAt: number): PhaseEvent => ({ id: e.id, phase: e.phase, time: e.time, receivedAt })

/**
 * Events that all come after the stored state (or open the conversation): each is new (a stored
 * event is never later than the state's latest), but for a repeat within the request, so each
 * row is written with its folded state at once. Answers the new state, null when nothing was new.
 */
async function foldInOrder(
  tx: Repository,
  req: IngestRequest,
  conversation: string,
  base: ConversationState | null,
  ks: number[],
  events: ChatEvent[],
  slots: number[],
  statuses: IngestStatus[],
): Promise<ConversationState | null> {
  const seen = new Set<string>()
  const fresh: number[] = []
  for (const k of ks) {
    const e = events[k] as ChatEvent
    if (seen.has(e.id)) continue
    seen.add(e.id)
    fresh.push(k)
  }
  const order = fresh.map((k) => ({ k, e: phaseEvent(events[k] as ChatEvent, req.receivedAt) })).sort((a, b) => comparePhaseEvents(a.e, b.e))
  const states = foldSteps(
    base,
    order.map((x) => x.e),
  )
  const rows: ChatEventRow[] = order.map(({ e }, j) => ({
    conversation,
    eventId: e.id,
    phase: e.phase,
    time: e.time,
    receivedAt: e.receivedAt,
    state: states[j] as ConversationState,
  }))
  const inserted = await tx.insertChatEvents(req.account, req.container, rows)
  order.forEach(({ k }, j) => {
    statuses[slots[k] as number] = inserted[j] ? 'accepted' : 'duplicate'
  })
  if (inserted.every(Boolean)) return states.at(-1) ?? null
  // A stored id sent again with a later time (a forged retry): it stays a duplicate, and the rows
  // written get the states of the fold without it.
  const kept = order.filter((_, j) => inserted[j]).map((x) => x.e)
  const again = foldSteps(base, kept)
  await tx.saveChatStates(
    req.account,
    req.container,
    conversation,
    kept.map((e, j) => ({ eventId: e.id, state: again[j] as ConversationState })),
  )
  return again.at(-1) ?? null
}

/**
 * Some event comes before the stored state's latest. The last CHAT_REORDER_EVENTS + 1 stored
 * events are read with their states; an event that would land before them is refused with
 * `event_out_of_order`; the others are stored, and the events from the first new one on are folded
 * again from the state of the event before it. Rows stored before states were kept (an older
 * database) are folded once from the conversation's start (at most MAX_CONVERSATION_EVENTS).
 */
async function foldLate(
  tx: Repository,
  req: IngestRequest,
  conversation: string,
  prev: ConversationRecord,
  ks: number[],
  events: ChatEvent[],
  slots: number[],
  statuses: IngestStatus[],
): Promise<ConversationState | null> {
  const { account, container, receivedAt } = req
  const tail = await tx.chatTail(account, container, conversation, CHAT_REORDER_EVENTS + 1)
  // The oldest row read is the boundary when there are older ones: a new event must sort after it.
  const bounded = tail.length > CHAT_REORDER_EVENTS
  const floor = bounded ? (tail[tail.length - 1] as TailEvent) : null
  const rows: ChatEventRow[] = []
  const rowSlots: number[] = []
  for (const k of ks) {
    const e = events[k] as ChatEvent
    const p = phaseEvent(e, receivedAt)
    if (floor && comparePhaseEvents(p, floor) <= 0 && !tail.some((t) => t.id === e.id)) {
      statuses[slots[k] as number] = 'event_out_of_order'
      continue
    }
    rows.push({ conversation, eventId: e.id, phase: e.phase, time: e.time, receivedAt, state: null })
    rowSlots.push(k)
  }
  if (rows.length === 0) return null
  const inserted = await tx.insertChatEvents(account, container, rows)
  const added: PhaseEvent[] = []
  inserted.forEach((isNew, j) => {
    const k = rowSlots[j] as number
    statuses[slots[k] as number] = isNew ? 'accepted' : 'duplicate'
    const r = rows[j] as ChatEventRow
    if (isNew) added.push({ id: r.eventId, phase: r.phase, time: r.time, receivedAt: r.receivedAt })
  })
  if (added.length === 0) return null

  let base: ConversationState | null
  let window: PhaseEvent[]
  if (floor?.state) {
    base = floor.state
    window = tail.slice(0, -1)
  } else if (!bounded) {
    // The whole conversation is in the tail: fold it from its start.
    base = null
    window = tail
  } else {
    // Stored before states were kept: folded once from the start, and every state written.
    base = null
    const fresh = new Set(added.map((a) => a.id))
    window = (await tx.chatEvents(account, container, conversation)).filter((w) => !fresh.has(w.id))
  }
  const stored = new Map(tail.map((t) => [t.id, t.state]))
  const merged = [...window.map(({ id, phase, time, receivedAt: r }) => ({ id, phase, time, receivedAt: r })), ...added].sort(comparePhaseEvents)
  const states = foldSteps(base, merged)
  const fresh = new Set(added.map((a) => a.id))
  const changed: { eventId: string; state: ConversationState }[] = []
  merged.forEach((e, j) => {
    const s = states[j] as ConversationState
    const old = stored.get(e.id)
    // A state that only counts one more event before it is left as it is: a ping that lands between
    // two pings changes no later state but that count, so it rewrites its own row only.
    if (fresh.has(e.id) || !old || !sameFold(old, s)) changed.push({ eventId: e.id, state: s })
  })
  await tx.saveChatStates(account, container, conversation, changed)
  const last = states.at(-1)
  // The count of stored events is the conversation's (a row's own `events` may lag: see above).
  return last ? { ...last, events: prev.state.events + added.length } : prev.state
}

/** Equal folds, whatever the count of events before them. */
function sameFold(a: ConversationState, b: ConversationState): boolean {
  return (
    a.startedAt === b.startedAt &&
    a.lastEventAt === b.lastEventAt &&
    a.latestAt === b.latestAt &&
    a.endedAt === b.endedAt &&
    a.closed === b.closed &&
    a.active === b.active &&
    a.botMs === b.botMs &&
    a.firstReceivedAt === b.firstReceivedAt &&
    a.lastReceivedAt === b.lastReceivedAt
  )
}
