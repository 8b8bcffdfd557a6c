/**
 * Random ids from `crypto.getRandomValues`, which (unlike `crypto.randomUUID`) also exists on
 * plain-http pages. 128 bits as four decimal words run together: at most 40 digits, within the
 * wire alphabet (base 36 would save 12 characters on the wire, and cost t.js 15 bytes gzipped).
 */
export const randomId = (): string => crypto.getRandomValues(new Uint32Array(4)).join('')
