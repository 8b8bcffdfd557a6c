/**
 * Account keys as `tally keys` makes them (docs/security.md, "Keys and sign-ins"): 32 bytes from
 * the operating system's random source, base64url, with the scope's prefix: 256 bits, which no
 * number of guesses at the throttled rate comes near. A key is a bearer credential: whoever holds
 * it is the account (read, or read and write).
 */
import { randomBytes } from 'node:crypto'

/** Random bytes in a key. */
export const KEY_BYTES = 32

/** A new secret key (`sk_…`) or read key (`rk_…`): 46 characters. */
export const newAccountKey = (scope: 'secret' | 'read'): string => `${scope === 'secret' ? 'sk' : 'rk'}_${randomBytes(KEY_BYTES).toString('base64url')}`
