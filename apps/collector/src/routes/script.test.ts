import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { setup } from '../testkit.js'
import { CACHE_CONTROL, compress, negotiate, SDK_SCRIPT } from './script.js'

const dir = mkdtempSync(join(tmpdir(), 'tally-script-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
afterEach(() => {
  vi.restoreAllMocks()
})

/** A dist folder of its own: t.js, t.debug.js and sdk.mjs with recognisable, compressible text. */
function dist(name: string) {
  const folder = join(dir, name)
  mkdirSync(folder)
  const files: Record<string, string> = {}
  for (const file of ['t.js', 't.debug.js', 'sdk.mjs']) {
    files[file] = `/* ${file} */ ${`(function(){var tally="${file}";})();\n`.repeat(40)}`
    writeFileSync(join(folder, file), files[file]!)
  }
  return { script: join(folder, 't.js'), files }
}

const get = (app: ReturnType<typeof setup>['app'], path: string, headers: Record<string, string> = {}) => app.request(path, { headers })
const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer())

describe('Accept-Encoding', () => {
  it.each([
    ['gzip, deflate, br, zstd', 'br'],
    ['br', 'br'],
    ['BR;q=0.1, gzip', 'br'],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['br;q=0, gzip;q=0.5', 'gzip'],
    ['*', 'br'],
    ['br;q=0, *', 'gzip'],
    ['*;q=0, identity', 'identity'],
    ['gzip;q=0, br;q=0', 'identity'],
    ['deflate', 'identity'],
    ['identity', 'identity'],
    ['', 'identity'],
    [undefined, 'identity'],
  ])('%j is answered with %s', (header, coding) => {
    expect(negotiate(header)).toBe(coding)
  })
})

describe('GET /t.js, /t.debug.js and /sdk.mjs', () => {
  const { script, files } = dist('all')

  it.each(['/t.js', '/t.debug.js', '/sdk.mjs'])('serves %s brotli-compressed when allowed, else gzip, else as is', async (route) => {
    const { app } = setup({ sdkScript: script })
    const plain = files[route.slice(1)]!
    const br = await get(app, route, { 'accept-encoding': 'gzip, deflate, br' })
    expect(br.headers.get('content-encoding')).toBe('br')
    const brBody = await bytes(br)
    expect(brotliDecompressSync(brBody).toString()).toBe(plain)
    const gz = await get(app, route, { 'accept-encoding': 'gzip' })
    expect(gz.headers.get('content-encoding')).toBe('gzip')
    const gzBody = await bytes(gz)
    expect(gunzipSync(gzBody).toString()).toBe(plain)
    const id = await get(app, route)
    expect(id.headers.get('content-encoding')).toBeNull()
    expect((await bytes(id)).toString()).toBe(plain)
    // Compressed is smaller, and brotli smaller still: there is a point to all this.
    expect(brBody.length).toBeLessThan(gzBody.length)
    expect(gzBody.length).toBeLessThan(Buffer.byteLength(plain))
  })

  it('sends the content type, Vary, cache lifetime and CORS headers with every coding', async () => {
    const { app } = setup({ sdkScript: script })
    for (const ae of ['br', 'gzip', '']) {
      const res = await get(app, '/sdk.mjs', { 'accept-encoding': ae })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
      expect(res.headers.get('vary')).toBe('Accept-Encoding')
      expect(res.headers.get('cache-control')).toBe(CACHE_CONTROL)
      expect(res.headers.get('access-control-allow-origin')).toBe('*')
    }
    expect(CACHE_CONTROL).toMatch(/^public, max-age=300, stale-while-revalidate=\d+/)
  })

  it('gives each coding its own strong ETag, and each file its own', async () => {
    const { app } = setup({ sdkScript: script })
    const etags = []
    for (const route of ['/t.js', '/t.debug.js']) {
      for (const ae of ['br', 'gzip', '']) etags.push((await get(app, route, { 'accept-encoding': ae })).headers.get('etag'))
    }
    for (const etag of etags) expect(etag).toMatch(/^"[\w-]+"$/)
    expect(new Set(etags).size).toBe(6)
  })

  it('answers 304 when If-None-Match names the ETag of the coding asked for, and 200 for another coding', async () => {
    const { app } = setup({ sdkScript: script })
    const br = (await get(app, '/t.js', { 'accept-encoding': 'br' })).headers.get('etag')!
    const gz = (await get(app, '/t.js', { 'accept-encoding': 'gzip' })).headers.get('etag')!
    for (const inm of [br, `W/${br}`, `"other", ${br}`, '*']) {
      const res = await get(app, '/t.js', { 'accept-encoding': 'br', 'if-none-match': inm })
      expect(res.status, inm).toBe(304)
      expect(await res.text()).toBe('')
      expect(res.headers.get('etag')).toBe(br)
      expect(res.headers.get('vary')).toBe('Accept-Encoding')
      expect(res.headers.get('cache-control')).toBe(CACHE_CONTROL)
      expect(res.headers.get('content-encoding')).toBeNull()
    }
    const other = await get(app, '/t.js', { 'accept-encoding': 'br', 'if-none-match': gz })
    expect(other.status).toBe(200)
    expect(other.headers.get('etag')).toBe(br)
  })

  it('compresses each file once when the app is built, not per request', async () => {
    const br = vi.spyOn(compress, 'br')
    const gzip = vi.spyOn(compress, 'gzip')
    const { app } = setup({ sdkScript: script })
    expect([br.mock.calls.length, gzip.mock.calls.length]).toEqual([3, 3])
    for (let i = 0; i < 5; i++) {
      for (const route of ['/t.js', '/t.debug.js', '/sdk.mjs']) {
        for (const ae of ['br', 'gzip', '']) expect((await get(app, route, { 'accept-encoding': ae })).status).toBe(200)
      }
    }
    expect([br.mock.calls.length, gzip.mock.calls.length]).toEqual([3, 3])
  })

  it('serves the new script with a new ETag after a rebuild, compressing it once more', async () => {
    const own = dist('rebuilt')
    const { app } = setup({ sdkScript: own.script })
    const first = (await get(app, '/t.js', { 'accept-encoding': 'br' })).headers.get('etag')!
    const br = vi.spyOn(compress, 'br')
    writeFileSync(own.script, 'two, longer')
    const res = await get(app, '/t.js', { 'accept-encoding': 'br', 'if-none-match': first })
    expect(res.status).toBe(200)
    expect(brotliDecompressSync(await bytes(res)).toString()).toBe('two, longer')
    expect(res.headers.get('etag')).not.toBe(first)
    await get(app, '/t.js', { 'accept-encoding': 'br' })
    expect(br).toHaveBeenCalledTimes(1)
  })

  it('says to run the build when a file is missing, and serves it once built', async () => {
    const folder = join(dir, 'empty')
    mkdirSync(folder)
    const { app } = setup({ sdkScript: join(folder, 't.js') })
    for (const route of ['/t.js', '/t.debug.js', '/sdk.mjs']) {
      const res = await get(app, route)
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ error: { code: 'unavailable', message: expect.stringContaining('npm run build') } })
    }
    writeFileSync(join(folder, 't.debug.js'), 'built now')
    expect(await (await get(app, '/t.debug.js')).text()).toBe('built now')
  })
})

describe.skipIf(!existsSync(SDK_SCRIPT))('the built SDK, as served', () => {
  it('is t.js within its 2,000-byte gzip budget, and smaller with brotli', async () => {
    const { app } = setup()
    const gz = await bytes(await get(app, '/t.js', { 'accept-encoding': 'gzip' }))
    const br = await bytes(await get(app, '/t.js', { 'accept-encoding': 'gzip, br' }))
    expect(gz.length).toBeLessThanOrEqual(2000)
    expect(br.length).toBeLessThan(gz.length)
    expect(brotliDecompressSync(br)).toEqual(readFileSync(SDK_SCRIPT))
  })

  it('is sdk.mjs as a module a browser can load alone: exports createTracker, imports nothing', async () => {
    const { app } = setup()
    const code = await (await get(app, '/sdk.mjs')).text()
    expect(code).toMatch(/export\s*\{[^}]*\bcreateTracker\b/)
    // A bare specifier ("idb-keyval") fails in a browser without an import map.
    expect(code).not.toMatch(/\bimport\s*["'{*]|\bfrom\s*["']/)
  })
})
