/**
 * What each rejection reason means and what to do about it (docs/protocol.md §3, docs/collector.md
 * "Ingestion"): one text for every reason the collector records, REJECTION_REASONS of
 * @tally/protocol; the type makes a missing or an extra reason a compile error.
 */
import type { RejectionReason } from '@tally/protocol/contract'

export const REASONS: Record<RejectionReason, string> = {
  unknown_container: 'Unknown container: no container has this id. Check data-container on the page.',
  origin_not_allowed: "Wrong origin: the page's domain is not among the container's domains. Add it to the container's domains if the page is yours.",
  origin_missing: 'No origin: the request named no page, so it was not sent by a browser page (a script or a tool). Beacons must come from the page itself.',
  origin_null: 'Origin "null": a sandboxed frame or a file:// page. Serve the page from its domain.',
  origin_invalid: 'Unreadable origin: the Origin or Referer header was not a web address. Not sent by a browser page; nothing to do unless it is frequent.',
  account_inactive: 'The account is paused: no beacon is counted until it is active again.',
  subscription_ended: 'The subscription has ended: no beacon is counted. Renew it to count again.',
  rate_limited:
    "Too many requests: one address, or the whole container, sent faster than the collector's rate limits (server.rateLimits). The page retries later; if real traffic is refused, raise the limits.",
  payload_too_large:
    'Too large: the request body was over 64 KB. The script sends smaller batches; a page sending its own beacons should send fewer events at a time.',
  invalid_json: 'Not JSON: the body was not JSON text in UTF-8. Something other than the Tally script sent it; send beacons with the script or as documented.',
  invalid_request:
    'Cut off: the connection closed before the whole body arrived (the visitor left, or the network dropped). Nothing to do unless it is frequent.',
  invalid_batch:
    'Malformed batch: the body was JSON but not a batch of events (a wrong version, a missing sentAt, too many events). Update the script, or fix a page that sends its own beacons.',
  bot: 'Bot: a crawler or a headless browser, dropped and not counted.',
  unknown_campaign: 'Unknown campaign id in the page. Add the campaign to the container, or fix the id on the page.',
  inactive_campaign: 'The campaign is switched off. Switch it on to count it.',
  unknown_advisor: 'Unknown advisor id in the page. Add the advisor to the container, or fix the id on the page.',
  inactive_advisor: 'The advisor is switched off. Switch it on to count it.',
  unknown_bot: 'Unknown or switched-off bot id in the page. Add or switch on the bot, or fix the id on the page.',
  suspicious:
    'Suspicious: more new sessions from one address in an hour than the cap (server.sessionsPerHour). Their units are stored and shown under Usage as suspicious, never billed.',
  event_too_old: 'Sent too late: the event was more than 72 hours old when it arrived.',
  event_in_future: 'The device clock is ahead: the event was more than 5 minutes in the future.',
  invalid_event: 'A malformed event: a field missing, of the wrong type, or too long. Update the script, or fix a page that sends its own events.',
  conversation_too_long: 'The chat conversation already holds 1,000 events; later ones are not counted. Start a new conversation id for a new conversation.',
  conversation_session_mismatch:
    'A chat event named a conversation opened by another visitor session: a conversation belongs to the session that opened it. Let the SDK choose conversation ids (or use long random ones): a guessable id can be taken by a stranger first.',
  event_before_conversation:
    'A chat event was dated more than 5 minutes before its conversation started: not counted (a late event may not reopen or close a conversation).',
  event_out_of_order: 'A chat event arrived after more than 32 later events of its conversation: not counted.',
  too_many_conversations: 'A beacon named more than 16 chat conversations: the events of the others were not counted.',
  over_session_cap: 'A chat event came from an address past its hourly cap of new sessions: it adds no billable time to a conversation.',
}
