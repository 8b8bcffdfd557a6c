/**
 * A conversation with a bot (docs/rules.md §3, chat usage sessions): `start` at once, a `ping` every
 * 60 s while open so the collector can tell an open conversation from an idle one, then
 * `handoff` / `resume` around a human agent's part and `end`. Calls after `end` do nothing.
 */
import { CHAT_PING_MS, type ChatPhase } from '@tally/protocol/contract'

export interface Chat {
  /** A human agent takes over: bot time stops counting. */
  handoff(): void
  /** The bot takes the conversation back. */
  resume(): void
  /** The conversation is over; pings stop. */
  end(): void
}

export function createChat(emit: (phase: ChatPhase) => void): Chat {
  emit('start')
  let open: ReturnType<typeof setInterval> | 0 = setInterval(emit, CHAT_PING_MS, 'ping')
  const phase = (p: ChatPhase) => () => {
    if (!open) return
    // biome-ignore lint/suspicious/noDoubleEquals: both sides are strings; `==` is a byte shorter and t.js has a gzip budget (size.test.ts)
    if (p == 'end') {
      clearInterval(open)
      open = 0
    }
    emit(p)
  }
  return { handoff: phase('handoff'), resume: phase('resume'), end: phase('end') }
}
