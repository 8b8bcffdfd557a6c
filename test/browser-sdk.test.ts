/**
 * The built `t.js` in a real Chromium, loaded by script tag on a `.test` shop page and posting
 * cross-origin to a small recording server: checks exactly what arrives (one impression per
 * campaign and session despite a reload, an engagement per advisor on click, nothing for an
 * element scrolled past in under a second, a beacon when the page goes away).
 */
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, skipWithoutChromium } from './chromium.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Batch, BrowserEvent } from '@tally/protocol/contract'
import { negotiate, scriptRoutes } from '../apps/collector/src/routes/script.js'

const T_JS = fileURLToPath(new URL('../packages/sdk/dist/t.js', import.meta.url))

const page = (collector: string) => `<!doctype html><html><head><meta charset="utf-8"><title>Acme shop</title>
<script>window.tally=window.tally||function(){(tally.q=tally.q||[]).push(arguments)}</script>
<script async src="${collector}/t.js" data-container="ctr_shop"></script>
<script>tally('impression', 'cmp_queued')</script>
</head><body style="margin:0">
<button id="shoes" data-tally-advisor="adv_shoes" style="height:40px"><span>Find my shoe</span></button>
<button id="bags" data-tally-advisor="adv_bags" style="height:40px">Bags</button>
<div data-tally-campaign="cmp_top" style="height:200px">Summer sale</div>
<div style="height:3000px"></div>
<div id="flash" data-tally-campaign="cmp_flash" style="height:200px">scrolled past</div>
<div style="height:3000px"></div>
<div id="below" data-tally-campaign="cmp_below" style="height:200px">far below</div>
<div style="height:1000px"></div>
</body></html>`

interface Received {
  origin: string | undefined
  contentType: string | undefined
  beacon: boolean
  batch: Batch
}

describe.skipIf(skipWithoutChromium)('t.js in Chromium', () => {
  const received: Received[] = []
  let server: Server
  let shop: string
  let browser: Browser

  const cors = (req: IncomingMessage) => ({ 'Access-Control-Allow-Origin': req.headers.origin ?? '*', Vary: 'Origin' })

  beforeAll(async () => {
    if (!existsSync(T_JS)) throw new Error(`${T_JS} is missing: run \`npm run build -w @tally/sdk\` first`)
    const script = readFileSync(T_JS)
    server = createServer((req, res) => {
      const host = req.headers.host ?? ''
      const port = host.split(':')[1]
      if (req.method === 'GET' && host.startsWith('shop.acme.test') && req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
        res.end(page(`http://collector.acme.test:${port}`))
      } else if (req.method === 'GET' && req.url === '/t.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript' })
        res.end(script)
      } else if (req.method === 'POST' && req.url!.split('?')[0] === '/v1/containers/ctr_shop/events') {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          received.push({
            origin: req.headers.origin,
            contentType: req.headers['content-type'],
            beacon: req.url!.endsWith('?via=beacon'),
            batch: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Batch,
          })
          res.writeHead(200, { 'Content-Type': 'application/json', ...cors(req) })
          res.end(JSON.stringify({ accepted: 1, duplicates: 0, rejected: [] }))
        })
      } else if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...cors(req), 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'content-type' })
        res.end()
      } else {
        res.writeHead(404)
        res.end()
      }
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    shop = `http://shop.acme.test:${(server.address() as AddressInfo).port}/`
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await new Promise((r) => server?.close(r))
  })

  /** Every event received, each id once (the collector dedups re-sent events by id). */
  const events = (): BrowserEvent[] => [...new Map(received.flatMap((r) => r.batch.events).map((e) => [e.id, e])).values()]
  const subjects = () => events().map((e) => (e.type === 'impression' ? `i:${e.campaign}` : e.type === 'engagement' ? `e:${e.advisor}` : e.phase))

  async function until(check: () => boolean, what: string, ms = 5000) {
    const end = Date.now() + ms
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(subjects())}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  const scrollTo = (p: Page, id: string) => p.evaluate((el) => document.getElementById(el)!.scrollIntoView(), id)

  it('counts what is seen and clicked once per session, across a reload, and beacons on the way out', async () => {
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } })
    // Marks what goes by sendBeacon (plain-http pages get no Sec-Fetch-* headers to tell).
    await context.addInitScript(() => {
      const send = navigator.sendBeacon.bind(navigator)
      navigator.sendBeacon = (url, data) => send(`${url}?via=beacon`, data)
    })
    const p = await context.newPage()
    await p.goto(shop)

    // The stub's queued call, then the campaign in view at load once it has been visible 1 s.
    await until(() => subjects().includes('i:cmp_top'), 'the first impression')
    expect(subjects()).toEqual(['i:cmp_queued', 'i:cmp_top'])

    // Scrolled through in under a second: not viewed. Then a campaign that stays in view.
    await scrollTo(p, 'flash')
    await p.waitForTimeout(300)
    await scrollTo(p, 'below')
    await until(() => subjects().includes('i:cmp_below'), 'the impression after scrolling')

    await scrollTo(p, 'shoes')
    await p.click('#shoes span')
    await p.click('#shoes')
    await until(() => subjects().includes('e:adv_shoes'), 'the engagement')

    // Reload within the session: the same views and clicks send nothing new.
    await p.reload()
    await p.waitForTimeout(1300)
    await scrollTo(p, 'below')
    await p.waitForTimeout(1300)
    await scrollTo(p, 'shoes')
    await p.click('#shoes')
    await p.waitForTimeout(1200)
    expect(subjects()).toEqual(['i:cmp_queued', 'i:cmp_top', 'i:cmp_below', 'e:adv_shoes'])

    // A click right before leaving: pagehide hands it to sendBeacon.
    const before = received.length
    await p.click('#bags')
    await p.goto('about:blank')
    await until(() => subjects().includes('e:adv_bags'), 'the beaconed engagement')
    expect(received.slice(before).map((r) => r.beacon)).toContain(true)

    expect(subjects()).toEqual(['i:cmp_queued', 'i:cmp_top', 'i:cmp_below', 'e:adv_shoes', 'e:adv_bags'])
    const all = events()
    expect(new Set(all.map((e) => e.session)).size).toBe(1)
    expect(all[0]!.session).toMatch(/^s_[A-Za-z0-9]+$/)
    for (const r of received) {
      expect(r.origin).toBe(shop.slice(0, -1))
      expect(r.contentType).toBe('text/plain;charset=UTF-8')
      expect(r.batch).toMatchObject({ v: 1, sdk: 'tally-js/0.1.0' })
      expect(r.batch.sentAt).toBeGreaterThanOrEqual(Math.max(...r.batch.events.map((e) => e.ts)))
    }
    await context.close()
  }, 30_000)
})

/**
 * The builds as the collector serves them (its own route code, compressed per Accept-Encoding),
 * on a page of another origin: `t.debug.js` tells the console why events were refused, `t.js`
 * stays silent, and `/sdk.mjs` runs as a cross-origin module script.
 */
describe.skipIf(skipWithoutChromium)('t.debug.js and sdk.mjs in Chromium', () => {
  const files = scriptRoutes()
  const encodings: { path: string; asked: string; got: string | null }[] = []
  const batches: Batch[] = []
  let server: Server
  let shop: string
  let browser: Browser

  const pages: Record<string, (collector: string) => string> = {
    '/debug': (c) => `<!doctype html><script async src="${c}/t.debug.js" data-container="ctr_shop" data-debug data-autotrack="false"></script>
<script>window.tally=window.tally||function(){(tally.q=tally.q||[]).push(arguments)};tally('impression','cmp_old');tally('impression','cmp_ok')</script>`,
    '/quiet': (c) => `<!doctype html><script async src="${c}/t.js" data-container="ctr_shop" data-debug data-autotrack="false"></script>
<script>window.tally=window.tally||function(){(tally.q=tally.q||[]).push(arguments)};tally('impression','cmp_old');tally('impression','cmp_ok')</script>`,
    '/module': (c) => `<!doctype html><script type="module">
import { createTracker } from '${c}/sdk.mjs'
const t = createTracker({ container: 'ctr_shop', endpoint: '${c}', debug: true })
t.impression('cmp_old'); t.impression('cmp_ok')
await t.flush()
window.done = t.sessionId()
</script>`,
  }

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const [host = '', port] = (req.headers.host ?? '').split(':')
      const cors = { 'Access-Control-Allow-Origin': req.headers.origin ?? '*', Vary: 'Origin' }
      if (req.method === 'GET' && host.startsWith('shop.') && pages[req.url!]) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
        res.end(pages[req.url!]!(`http://collector.acme.test:${port}`))
      } else if (req.method === 'GET' && ['/t.js', '/t.debug.js', '/sdk.mjs'].includes(req.url!)) {
        const headers = Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : []))
        const r = await files.fetch(new Request(`http://collector.acme.test${req.url}`, { headers }))
        encodings.push({ path: req.url!, asked: req.headers['accept-encoding'] ?? '', got: r.headers.get('content-encoding') })
        res.writeHead(r.status, Object.fromEntries(r.headers))
        res.end(Buffer.from(await r.arrayBuffer()))
      } else if (req.method === 'POST' && req.url === '/v1/containers/ctr_shop/events') {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Batch
          batches.push(batch)
          // cmp_old is an inactive campaign, as the collector would say.
          const rejected = batch.events.flatMap((e, index) =>
            e.type === 'impression' && e.campaign === 'cmp_old' ? [{ index, code: 'inactive_campaign' }] : [],
          )
          res.writeHead(200, { 'Content-Type': 'application/json', ...cors })
          res.end(JSON.stringify({ accepted: batch.events.length - rejected.length, duplicates: 0, rejected }))
        })
      } else {
        res.writeHead(404)
        res.end()
      }
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    shop = `http://shop.acme.test:${port}`
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await new Promise((r) => server?.close(r))
  })

  /** Opens `path` in a fresh profile and returns the console's warnings once a batch has been answered. */
  async function warnings(path: string) {
    const context = await browser.newContext()
    const p = await context.newPage()
    const lines: string[] = []
    const errors: string[] = []
    p.on('console', (m) => m.type() === 'warning' && lines.push(m.text()))
    p.on('pageerror', (e) => errors.push(e.message))
    const before = batches.length
    await p.goto(shop + path)
    const end = Date.now() + 5000
    while (batches.length === before) {
      if (Date.now() > end) throw new Error(`timed out on ${path}: ${JSON.stringify({ lines, errors })}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    // The answer to the batch reaches the page a moment after the server has it.
    await p.waitForTimeout(300)
    await context.close()
    expect(errors).toEqual([])
    return lines
  }

  const refused = /^\[tally\] the collector refused 1 event \(cmp_old\): inactive_campaign \(the campaign is inactive\)/

  it('t.debug.js with data-debug tells the console which event the collector refused and why', async () => {
    const lines = await warnings('/debug')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(refused)
  })

  it('t.js sends the same events and says nothing, data-debug or not', async () => {
    const lines = await warnings('/quiet')
    expect(lines).toEqual([])
    expect(batches.at(-1)!.events.map((e) => e.type === 'impression' && e.campaign)).toEqual(['cmp_old', 'cmp_ok'])
  })

  it('sdk.mjs runs as a cross-origin module script, with debug: true', async () => {
    const lines = await warnings('/module')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(refused)
  })

  it('was served compressed as each request allowed', () => {
    expect(new Set(encodings.map((e) => e.path))).toEqual(new Set(['/t.js', '/t.debug.js', '/sdk.mjs']))
    // Chromium offers brotli over https only; these plain-http pages get gzip.
    for (const e of encodings) {
      expect(e.got).not.toBeNull()
      expect(e.got).toBe(negotiate(e.asked))
    }
  })
})
