/** The rows of webhooks and of the evidence reads, as the `Repository` (./repository.ts) takes and gives them. */
import type { UsageEventRow } from './rows.js'

/** A webhook endpoint of an account (docs/webhooks.md). */
export interface WebhookEndpointRow {
  id: string
  url: string
  /** `whsec_…`: signs every delivery to this endpoint. */
  secret: string
  createdAt: number
}

/** An event of the webhook outbox, as written with the fact it reports. */
export interface OutboxEvent {
  /** The fact (`invoice.finalized:recurring:3`): writing it again is a no-op. */
  key: string
  /** `evt_…`: what a receiver deduplicates by. */
  id: string
  type: string
  created: number
  data: unknown
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed'

/** One event's delivery to one endpoint. */
export interface DeliveryRow {
  account: string
  /** The event's position among the account's events. */
  seq: number
  endpoint: string
  status: DeliveryStatus
  attempts: number
  nextAt: number
  lastAt: number | null
  lastStatus: number | null
  lastError: string | null
  event: { id: string; type: string; created: number; data: unknown }
}

/** What an attempt changes in its delivery. */
export interface DeliveryUpdate {
  status: DeliveryStatus
  attempts: number
  nextAt: number
  lastAt: number | null
  lastStatus: number | null
  lastError: string | null
}
/**
 * Evidence reads (docs/evidence.md): the stored billable units behind invoice lines, paged by keyset
 * (each page starts after the last row of the one before), so an export of any size reads a
 * bounded page at a time and never holds the whole set.
 */
/** An impression or engagement as stored: the unit key and the event that counted it. */
export interface UnitEvidence {
  container: string
  session: string
  subject: string
  eventId: string
  time: number
}

/** Where the next page of units of a container starts: after this (time, session, subject). */
export type UnitCursor = Pick<UnitEvidence, 'time' | 'session' | 'subject'>

/** A conversation with billed chat sessions, with what the collector witnessed of it. */
export interface ConversationEvidence {
  container: string
  conversation: string
  bot: string
  session: string
  startedAt: number
  lastEventAt: number
  endedAt: number | null
  firstReceivedAt: number
  lastReceivedAt: number
  botMs: number
  sessions: number
}

/** Where the next page of conversations starts: after this (startedAt, container, conversation). */
export type ConversationCursor = Pick<ConversationEvidence, 'startedAt' | 'container' | 'conversation'>

/** Where the next page of usage events starts: after this (day, id). */
export type UsageEventCursor = Pick<UsageEventRow, 'day' | 'id'>
