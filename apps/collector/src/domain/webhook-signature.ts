/**
 * The webhook signature (docs/webhooks.md): `Tally-Signature: t=<unix seconds>,v1=<hex>`, the hex
 * being HMAC-SHA256 over `${t}.${body}` with the endpoint's secret — the scheme payment
 * processors use, so receivers already know how to check it. The timestamp is inside the signed
 * text, so a captured request cannot be replayed later with a fresh one: a receiver refuses any
 * `t` more than `tolerance` from its own clock.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'Tally-Signature'
/** How far a signature's timestamp may be from the receiver's clock: five minutes either way. */
export const SIGNATURE_TOLERANCE_S = 300

/** A new endpoint secret: 32 random bytes, shown once at creation. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`

const hmac = (secret: string, timestamp: number, body: string): string => createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')

/** The header value for `body` sent at `nowMs`. */
export function signWebhook(body: string, secret: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000)
  return `t=${t},v1=${hmac(secret, t, body)}`
}

export type Verification = { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' }

/**
 * Checks a delivery as a receiver must: the header parses, its timestamp is within `tolerance`
 * seconds of `nowMs`, and one of its `v1` signatures is the HMAC of `${t}.${body}` (compared in
 * constant time). `body` is the raw request body, byte for byte as received, not re-serialized JSON.
 *
 * @example
 * const v = verifyWebhook(rawBody, req.headers['tally-signature'], process.env.TALLY_WEBHOOK_SECRET, Date.now())
 * if (!v.ok) return res.writeHead(400).end()
 */
export function verifyWebhook(body: string, header: string | null | undefined, secret: string, nowMs: number, tolerance = SIGNATURE_TOLERANCE_S): Verification {
  if (typeof header !== 'string') return { ok: false, reason: 'malformed' }
  let t: number | undefined
  const given: string[] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    const k = part.slice(0, eq).trim()
    const v = part.slice(eq + 1).trim()
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v)
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) given.push(v)
  }
  if (t === undefined || given.length === 0) return { ok: false, reason: 'malformed' }
  if (Math.abs(nowMs / 1000 - t) > tolerance) return { ok: false, reason: 'stale' }
  const want = Buffer.from(hmac(secret, t, body), 'hex')
  // Several v1 values let a sender sign with an old and a new secret while a receiver rotates.
  const match = given.some((v) => timingSafeEqual(Buffer.from(v, 'hex'), want))
  return match ? { ok: true, timestamp: t } : { ok: false, reason: 'mismatch' }
}
