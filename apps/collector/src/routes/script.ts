/**
 * The browser SDK as the collector serves it (docs/protocol.md §1-2), from packages/sdk/dist:
 *   GET /t.js        the script tag
 *   GET /t.debug.js  the same script with the `data-debug` console diagnostics
 *   GET /sdk.mjs     the ESM build for `<script type="module">` (idb-keyval bundled in, since a
 *                    browser cannot resolve the package's bare `idb-keyval` import)
 * Each file is compressed once (brotli q11, gzip -9) when the app is built, and again only when
 * the file changes (a rebuild needs no restart); a request costs one stat and no compression.
 * The answer follows Accept-Encoding: brotli when allowed, then gzip, else the plain bytes, each
 * with its own strong ETag, and `Vary: Accept-Encoding` so that caches keep them apart.
 */
import { Hono } from 'hono'
import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join, resolve } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { fail } from '../errors.js'

/** The same path from `src/` and from `dist/`. */
export const SDK_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../packages/sdk/dist/t.js')

/**
 * Fresh for 5 minutes: every storefront embeds the same unversioned URL, so a fix must reach
 * visitors soon after a deploy. After that, a browser runs its copy at once while it revalidates
 * in the background (a 304, mostly), for up to a day; and when the collector cannot answer, a
 * cached copy still runs and keeps events in IndexedDB until the collector is back.
 */
export const CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=86400, stale-if-error=86400'

export type Coding = 'br' | 'gzip' | 'identity'

/** The same settings as the size test that keeps the docs' download figures true. */
export const compress: Record<Exclude<Coding, 'identity'>, (b: Buffer) => Buffer> = {
  br: (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  gzip: (b) => gzipSync(b, { level: 9 }),
}

/**
 * The coding for an Accept-Encoding header: brotli, then gzip, whichever it allows (a q-value
 * above 0, by name or through `*`), else identity. No header means identity.
 */
export function negotiate(acceptEncoding: string | undefined): Coding {
  const q = new Map<string, number>()
  for (const part of (acceptEncoding ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim())
    if (!name) continue
    const weight = params.find((p) => p.startsWith('q='))
    q.set(name === 'x-gzip' ? 'gzip' : name, weight ? Number(weight.slice(2)) : 1)
  }
  const allows = (coding: string) => (q.get(coding) ?? q.get('*') ?? 0) > 0
  return allows('br') ? 'br' : allows('gzip') ? 'gzip' : 'identity'
}

interface Variant {
  body: Uint8Array<ArrayBuffer>
  etag: string
}
interface Built {
  mtimeMs: number
  size: number
  variants: Record<Coding, Variant>
}

/** One built file, compressed in every coding, re-read and recompressed when it changes. */
function servedFile(path: string): () => Built {
  let cached: Built | undefined
  const load = (): Built => {
    let st: ReturnType<typeof statSync>
    try {
      st = statSync(path)
    } catch {
      throw fail('unavailable', 'the SDK script is not built: run `npm run build`')
    }
    if (!cached || cached.mtimeMs !== st.mtimeMs || cached.size !== st.size) {
      const body = readFileSync(path)
      const hash = createHash('sha256').update(body).digest('base64url').slice(0, 27)
      // Distinct strong ETags per coding (RFC 9110 §8.8.3): the bytes differ.
      cached = {
        mtimeMs: st.mtimeMs,
        size: st.size,
        variants: {
          br: { body: new Uint8Array(compress.br(body)), etag: `"${hash}-br"` },
          gzip: { body: new Uint8Array(compress.gzip(body)), etag: `"${hash}-gz"` },
          identity: { body: new Uint8Array(body), etag: `"${hash}"` },
        },
      }
    }
    return cached
  }
  try {
    load()
  } catch {
    // Not built yet: a request says so (503), and loads the file once it is.
  }
  return load
}

/** Whether an If-None-Match list names `etag` (weak comparison, as for GET) or is `*`. */
const matches = (header: string | undefined, etag: string) =>
  !!header && header.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === etag)

/** `path` is the built t.js; t.debug.js and sdk.mjs are taken from the same folder. */
export function scriptRoutes(path = SDK_SCRIPT): Hono {
  const app = new Hono()
  const routes: Array<[string, string]> = [
    ['/t.js', path],
    ['/t.debug.js', join(dirname(path), 't.debug.js')],
    ['/sdk.mjs', join(dirname(path), 'sdk.mjs')],
  ]
  for (const [route, file] of routes) {
    const load = servedFile(file)
    app.get(route, (c) => {
      const coding = negotiate(c.req.header('accept-encoding'))
      const { body, etag } = load().variants[coding]
      const headers: Record<string, string> = {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': CACHE_CONTROL,
        ETag: etag,
        Vary: 'Accept-Encoding',
        // Module scripts are fetched with CORS (a cross-origin `<script type="module">` needs
        // this header); classic script tags are not, and ignore it.
        'Access-Control-Allow-Origin': '*',
        'Cross-Origin-Resource-Policy': 'cross-origin',
        'X-Content-Type-Options': 'nosniff',
      }
      if (matches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers)
      if (coding !== 'identity') headers['Content-Encoding'] = coding
      return c.body(body, 200, headers)
    })
  }
  return app
}
