/**
 * Random ids from `crypto.getRandomValues`, which (unlike `crypto.randomUUID`) also exists on
 * plain-http pages. 128 bits as four decimal words run together: at most 40 digits, within the
 * wire alphabet (base 36 would save 12 characters on the wire, and cost t.js 15 bytes gzipped).
 */
export const randomId = (): string => crypto.getRandomValues(new Uint32Array(4)).join('')

/**
 * Now, in ms in base 36 (8 characters until 2059): the first part of the SDK's own session and
 * conversation ids, before a random id. Ids made later sort after, so the collector's keys that
 * beacons write together (the sessions and conversations open now) sit together at the end of
 * its indexes instead of all over them (docs/performance.md, "Ids as the SDK makes them").
 * Nothing trusts the time in them.
 */
export const timePart = (): string => Date.now().toString(36)
