/**
 * The one body reader: every route that takes a body reads it here, with a size limit checked
 * against `Content-Length` before anything is read and again while the bytes stream in, so no
 * request can make the collector hold more than the limit, whatever it declares.
 */
import type { Context } from 'hono'
import type { IncomingMessage } from 'node:http'
import { MAX_BODY_BYTES, jsonTooDeep } from '@tally/protocol'
import { fail, TallyError } from '../errors.js'

const decoder = new TextDecoder('utf-8', { fatal: true })

const tooLarge = (limit: number) => fail('payload_too_large', `the body exceeds ${limit} bytes`)

/** The request body, at most `limit` bytes (413 past it). */
export async function readBody(c: Context, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = c.req.header('content-length')
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit)
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  // On a Node server, the request itself: several times cheaper than the web stream wrapped around it.
  if (incoming && Symbol.asyncIterator in incoming && !incoming.readableEnded) return readIncoming(incoming, limit)
  return readStream(c.req.raw, limit)
}

/** The body as UTF-8 text (400 `invalid_json` for bytes that are not UTF-8, as every body here is JSON or a form). */
export async function readText(c: Context, limit = MAX_BODY_BYTES): Promise<string> {
  const body = await readBody(c, limit)
  try {
    return decoder.decode(body)
  } catch {
    throw fail('invalid_json', 'the body is not UTF-8 text')
  }
}

/**
 * The body parsed as JSON (400 `invalid_json` otherwise). With `maxDepth`, a body nesting objects
 * and arrays deeper is refused (400 `invalid_json`) by a scan of the text, before anything parses
 * or walks it (docs/security.md).
 */
export async function readJson(c: Context, limit = MAX_BODY_BYTES, opts: { maxDepth?: number } = {}): Promise<unknown> {
  const text = await readText(c, limit)
  if (opts.maxDepth !== undefined && jsonTooDeep(text, opts.maxDepth)) {
    throw fail('invalid_json', `the body nests objects and arrays deeper than ${opts.maxDepth} levels`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw fail('invalid_json', 'the body is not JSON')
  }
}

async function readIncoming(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.byteLength
      if (total > limit) throw tooLarge(limit)
      chunks.push(chunk)
    }
  } catch (e) {
    // A client that drops the connection mid-body (or is cut by the request timeout) is not a
    // fault of ours: a 4xx nobody reads, logged at info by the app, never a 500.
    if (e instanceof TallyError) throw e
    throw fail('invalid_request', 'the connection closed before the body ended')
  }
  if (req.readableAborted || (!req.complete && req.destroyed)) throw fail('invalid_request', 'the connection closed before the body ended')
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total)
}

/** Requests without a Node socket (tests with `app.request`). */
async function readStream(req: Request, limit: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array()
  const reader = req.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel().catch(() => {})
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const out = new Uint8Array(total)
  let at = 0
  for (const ch of chunks) {
    out.set(ch, at)
    at += ch.byteLength
  }
  return out
}
