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
  // biome-ignore lint/suspicious/noConfusingVoidType: holds clearInterval's answer (void) to mark the chat closed in one expression; t.js has a gzip budget (size.test.ts)
  let open: ReturnType<typeof setInterval> | void = setInterval(emit, CHAT_PING_MS, 'ping')
  const phase = (p: ChatPhase) => () => {
    if (!open) return
    // biome-ignore lint/suspicious/noDoubleEquals: `==` is a byte shorter than `===` here and t.js has a gzip budget (size.test.ts)
    if (p == 'end') open = clearInterval(open)
    emit(p)
  }
  return { handoff: phase('handoff'), resume: phase('resume'), end: phase('end') }
}
