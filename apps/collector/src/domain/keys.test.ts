import { describe, expect, it } from 'vitest'
import { KEY_BYTES, newAccountKey } from './keys.js'

describe('account keys made by the CLI', () => {
  it('carry 256 random bits behind their scope prefix, and never repeat', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => newAccountKey(i % 2 ? 'read' : 'secret'))
    for (const [i, k] of keys.entries()) {
      expect(k).toMatch(i % 2 ? /^rk_[A-Za-z0-9_-]{43}$/ : /^sk_[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(k.slice(3), 'base64url')).toHaveLength(KEY_BYTES)
    }
    expect(new Set(keys).size).toBe(keys.length)
    // Every character of the alphabet turns up: the bytes are not drawn from a narrow range.
    expect(new Set(keys.join('').replace(/^.k_/gm, '')).size).toBeGreaterThan(60)
  })
})
