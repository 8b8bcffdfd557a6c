/**
 * `GET /t.js`: the built script-tag SDK (packages/sdk/dist/t.js), with a strong ETag and a cache
 * lifetime of an hour. Re-read when the file changes, so a rebuild needs no restart.
 */
import { Hono } from 'hono'
import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'
import { fail } from '../errors.js'

/** The same path from `src/` and from `dist/`. */
export const SDK_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../packages/sdk/dist/t.js')

export function scriptRoutes(path = SDK_SCRIPT): Hono {
  let cached: { mtimeMs: number; size: number; body: Buffer; etag: string } | undefined
  const load = () => {
    let st
    try {
      st = statSync(path)
    } catch {
      throw fail('unavailable', 'the SDK script is not built: run `npm run build`')
    }
    if (!cached || cached.mtimeMs !== st.mtimeMs || cached.size !== st.size) {
      const body = readFileSync(path)
      cached = { mtimeMs: st.mtimeMs, size: st.size, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
    }
    return cached
  }
  const app = new Hono()
  app.get('/t.js', (c) => {
    const s = load()
    const headers = {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=3600, must-revalidate',
      ETag: s.etag,
      'Access-Control-Allow-Origin': '*',
      'Cross-Origin-Resource-Policy': 'cross-origin',
    }
    const match = c.req.header('if-none-match')
    if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === s.etag)) return c.body(null, 304, headers)
    return c.body(new Uint8Array(s.body), 200, headers)
  })
  return app
}
