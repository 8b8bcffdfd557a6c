/**
 * Diagnostics for `data-debug` and `createTracker({ debug: true })`: every drop and refusal,
 * with its reason, as one `console.warn('[tally] …')` line. The production `t.js` is built
 * without them (its gzip budget has no room for the words): rollup replaces `__TALLY_DEBUG__`
 * with `false` there and the minifier removes every guarded line; `t.debug.js` and the ESM
 * builds keep them. A bundler may define `__TALLY_DEBUG__` as `false` to do the same.
 */
import type { BrowserEvent } from '@tally/protocol/contract'

declare const __TALLY_DEBUG__: boolean | undefined

/** Whether this build carries diagnostics: true unless the build defined `__TALLY_DEBUG__` false. */
export const DEBUG: boolean = typeof __TALLY_DEBUG__ !== 'boolean' || __TALLY_DEBUG__

declare const __TALLY_SCRIPT__: boolean | undefined

/**
 * Whether this build is a script tag (t.js, t.debug.js): the tag passes no `onDrop`, `store`,
 * `fetch` or `sendBeacon`, and runs where `document` exists, so rollup defines
 * `__TALLY_SCRIPT__` true and the minifier removes what only those options need.
 */
// biome-ignore lint/suspicious/noDoubleEquals: `==` is a byte shorter than `===` here and t.js has a gzip budget (size.test.ts)
export const SCRIPT: boolean = typeof __TALLY_SCRIPT__ == 'boolean' && __TALLY_SCRIPT__

/** t.js: a script tag without diagnostics, where nobody can hear of a drop or refusal. */
export const SILENT: boolean = SCRIPT && !DEBUG

/** Where diagnostics go: one line, and the events concerned. */
export type Warn = (message: string, events?: BrowserEvent[]) => void

/** What each reason means, said to the developer reading the console. */
const WHY: Record<string, string> = {
  invalid_event: 'an id outside [A-Za-z0-9._:-]{1,64}',
  outbox_full: 'the outbox holds 1000 unsent events already; the oldest goes',
  unknown_campaign: 'the container has no such campaign',
  inactive_campaign: 'the campaign is inactive',
  unknown_advisor: 'the container has no such advisor',
  inactive_advisor: 'the advisor is inactive',
  unknown_bot: 'the container has no such bot, or it is inactive',
  event_too_old: 'older than 72 hours when it arrived',
  event_in_future: 'more than 5 minutes ahead of the collector, after clock-skew correction',
  conversation_too_long: 'the conversation already holds 1000 events',
  conversation_session_mismatch: 'another visitor session opened this conversation id first: let the SDK choose conversation ids (t.chat(undefined, { bot }))',
  event_before_conversation: 'dated more than 5 minutes before its conversation started',
  event_out_of_order: 'arrived after more than 8 later events of its conversation',
  too_many_conversations: 'the batch named more than 16 conversations',
  over_session_cap: 'this address is past its hourly cap of new sessions: the event adds no billable time',
  forbidden: "unknown container, this page's origin not among the container's domains, or the account inactive: GET /v1/rejections says which",
  invalid_json: 'the collector could not parse the batch',
  invalid_batch: 'the collector refused the batch as malformed',
  payload_too_large: 'the batch was over 65536 bytes',
  bot: "the collector took this browser's user agent for a bot: nothing is counted",
}

/** "2 impressions (cmp_a, cmp_b)": which events a line is about, at a glance. */
function subjects(events: BrowserEvent[]): string {
  // biome-ignore lint/suspicious/noDoubleEquals: both sides are strings; `==` saves bytes in the SDK builds (size.test.ts)
  const names = events.map((e) => (e.type == 'impression' ? e.campaign : e.type == 'engagement' ? e.advisor : `${e.conversation} ${e.phase}`))
  // biome-ignore lint/suspicious/noDoubleEquals: both numbers; `==` saves bytes in the SDK builds (size.test.ts)
  return `${events.length} event${events.length == 1 ? '' : 's'} (${names.join(', ')})`
}

/** `reason (what it means)`, or the bare reason when it is not one of the known codes. */
export const explain = (reason: string): string => (WHY[reason] ? `${reason} (${WHY[reason]})` : reason)

/** The default sink: the console, never throwing into the page. */
export const consoleWarn: Warn = (message, events) => {
  try {
    // biome-ignore lint/style/useTemplate: concatenation minifies shorter than a template; SDK sizes (size.test.ts)
    console.warn('[tally] ' + message, ...(events ? [events] : []))
  } catch {}
}

/** One line per reason for a list of drops, naming the events. */
export function warnDrops(warn: Warn, drops: [BrowserEvent, string][], what = 'dropped'): void {
  const by = new Map<string, BrowserEvent[]>()
  for (const [e, why] of drops) by.set(why, [...(by.get(why) || []), e])
  // biome-ignore lint/suspicious/useIterableCallbackReturn: warn returns nothing; a block or for-of adds bytes to the SDK builds (size.test.ts)
  by.forEach((events, why) => warn(`${what} ${subjects(events)}: ${explain(why)}`, events))
}
