/**
 * Random ids from `crypto.getRandomValues`, which (unlike `crypto.randomUUID`) also exists on
 * plain-http pages. 128 bits in base 36: at most 28 characters, all within the wire alphabet.
 */
export const randomId = (): string =>
  Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(36)).join('')
