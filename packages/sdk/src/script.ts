/**
 * The script-tag entry (docs/protocol.md §1), built to `t.js`:
 *   <script>window.tally=window.tally||function(){(tally.q=tally.q||[]).push(arguments)}</script>
 *   <script async src="https://COLLECTOR/t.js" data-container="ctr_shop"></script>
 * Reads the tag's data attributes, replays the stub's queue in order, then replaces
 * `window.tally` with a function that runs commands at once and carries the tracker's methods.
 * A second copy of the script for the same container does nothing (next-plausible#15).
 * Built twice: `t.js` without diagnostics, `t.debug.js` with them (`data-debug`, debug.ts).
 */
import { createTracker, type Tracker, type TrackerOptions } from './tracker.js'
import { DEBUG } from './debug.js'

type Command = (cmd: string, ...args: unknown[]) => void
type Tally = Command & Partial<Tracker> & { q?: IArguments[] }

const w = window as unknown as { tally?: Tally; __tally?: Record<string, Tracker> }
// Set while a classic script (async included) first runs, which is when this line runs.
const tag = document.currentScript as HTMLScriptElement
const d = tag.dataset
const container = d.container!
// biome-ignore lint/suspicious/noAssignInExpressions: the assignment in place minifies shorter; t.js has a gzip budget (size.test.ts)
const seen = (w.__tally ||= {})

if (!seen[container]) {
  // The tag's attributes are the options (`data-session-timeout="5"` is multiplied as a number,
  // and a bad one gives the default; `data-autotrack` is read as given, on unless "false"). Any
  // other attribute is ignored: a script build reads no `store`, `fetch`, `sendBeacon` or
  // `onDrop` option (debug.ts, SCRIPT).
  // biome-ignore lint/suspicious/noAssignInExpressions: the assignment in place minifies shorter; t.js has a gzip budget (size.test.ts)
  const t = (seen[container] = createTracker({
    ...(d as unknown as TrackerOptions),
    endpoint: d.endpoint || new URL(tag.src).origin,
    // `data-debug` works in t.debug.js; t.js is built without diagnostics and ignores it (a
    // console line saying so would not fit its 2,000-byte budget).
    ...(DEBUG && { debug: d.debug != null }),
  }))
  const stub = w.tally
  // A tracker for another container already owns window.tally: leave it in place.
  if (!stub?.flush) {
    const tally: Tally = Object.assign((cmd: string, ...args: unknown[]) => {
      // Nothing throws into the page, not even `tally('__proto__')`.
      try {
        ;(t as unknown as Record<string, (...a: unknown[]) => unknown>)[cmd]!(...args)
      } catch {}
    }, t)
    w.tally = tally
    for (const args of stub?.q || []) tally(...(args as unknown as [string]))
  }
}
