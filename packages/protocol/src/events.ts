/** Wire types of docs/protocol.md §3 (browser batches) and §4 (server-to-server usage). */
import type { EventCode, UsageCode } from './codes.js'

export type ChatPhase = 'start' | 'ping' | 'handoff' | 'resume' | 'end'
export const CHAT_PHASES: readonly ChatPhase[] = ['start', 'ping', 'handoff', 'resume', 'end']

interface BaseEvent {
  /** Client-generated idempotency key, unique within the container. */
  id: string
  /** Browser session id. */
  session: string
  /** Client clock, ms since epoch; corrected with the batch's `sentAt`. */
  ts: number
}
export interface ImpressionEvent extends BaseEvent {
  type: 'impression'
  campaign: string
}
export interface EngagementEvent extends BaseEvent {
  type: 'engagement'
  advisor: string
}
export interface ChatEvent extends BaseEvent {
  type: 'chat'
  conversation: string
  bot: string
  phase: ChatPhase
}
export type BrowserEvent = ImpressionEvent | EngagementEvent | ChatEvent

/** What the SDK posts to `/v1/containers/{container}/events`. */
export interface Batch {
  v: number
  sentAt: number
  sdk?: string
  events: BrowserEvent[]
}

export interface RejectedEvent {
  index: number
  code: EventCode
}
/** The `200` answer to a batch. */
export interface BatchResult {
  accepted: number
  duplicates: number
  rejected: RejectedEvent[]
}

export interface AlertUsage {
  id: string
  type: 'alert'
  alert: string
  user?: string
  ts: number
}
export interface ActionUsage {
  id: string
  type: 'action'
  action: string
  quantity: number
  member?: string
  ts: number
}
export interface ContactsUsage {
  id: string
  type: 'contacts'
  count: number
  ts: number
}
export interface EmailUsage {
  id: string
  type: 'email'
  count: number
  ts: number
}
export type UsageEvent = AlertUsage | ActionUsage | ContactsUsage | EmailUsage

export interface UsageResult {
  id: string
  status: 'accepted' | 'duplicate' | 'rejected'
  code?: UsageCode
  credits?: { spent: number; balance: number }
}
