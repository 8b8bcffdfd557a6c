/**
 * A real browser: the built `t.js` on a page of a `.test` shop, talking cross-origin to the
 * running collector process, which counts what was seen and clicked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Server } from 'node:http'
import Database from 'better-sqlite3'
import type { Browser } from 'playwright-core'
import { CHROMIUM, chromiumMissing, launchChromium, skipWithoutChromium } from './chromium.js'
import { startStorefront } from '../apps/collector/src/storefront.js'
import { BROWSER_UA, ROOT, freePort, requireBuilt, startCollector, writeConfig, type Collector } from './e2e-process.js'

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script>window.tally=window.tally||function(){(tally.q=tally.q||[]).push(arguments)}</script>
<script async src="%COLLECTOR%/t.js" data-container="ctr_test"></script>
<script>tally('impression', 'cmp_queued')</script>
</head><body style="margin:0">
<button data-tally-advisor="adv_x" style="height:40px">Find my shoe</button>
<div data-tally-campaign="cmp_a" style="height:150px">A</div>
<div data-tally-campaign="cmp_b" style="height:150px">B</div>
<div data-tally-campaign="cmp_off" style="height:150px">inactive</div>
<div style="height:3000px"></div>
<div id="far" data-tally-campaign="cmp_far" style="height:150px">far below</div>
<div style="height:1000px"></div>
</body></html>`

// Chat from the script tag alone: one conversation queued through the stub before t.js has
// loaded, one opened on window.tally after, its every phase called at once; then the page is left
// before any flush (the beacon carries them) and opened again (the outbox sends them again).
const CHAT_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>help</title>
<script>window.tally=window.tally||function(){(tally.q=tally.q||[]).push(arguments)}</script>
<script>tally('chat', 'conv_queued_7c1e', { bot: 'bot_help' })</script>
<script async src="%COLLECTOR%/t.js" data-container="ctr_test" data-autotrack="false"></script>
</head><body>help</body></html>`

describe.skipIf(skipWithoutChromium)('the script tag in a real browser', () => {
  const env = writeConfig(['shop.tally.test'], { cmp_a: {}, cmp_b: {}, cmp_far: {}, cmp_queued: {}, cmp_off: { active: false } }, { adv_x: {} })
  let collector: Collector
  let shop: Server
  let shopUrl: string
  let browser: Browser

  beforeAll(async () => {
    requireBuilt(join(ROOT, 'packages/sdk/dist/t.js'))
    const port = await freePort()
    collector = await startCollector({ ...env, port })
    const site = join(env.dir, 'site')
    mkdirSync(site)
    writeFileSync(join(site, 'index.html'), PAGE)
    mkdirSync(join(site, 'help'))
    writeFileSync(join(site, 'help', 'index.html'), CHAT_PAGE)
    const s = await startStorefront({ collectorUrl: `http://collector.tally.test:${port}`, port: 0, host: '127.0.0.1', dir: site })
    shop = s.server
    shopUrl = `http://shop.tally.test:${s.port}/`
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    shop?.close()
    await collector?.stop()
    rmSync(env.dir, { recursive: true, force: true })
  })

  const counts = () => {
    const db = new Database(env.db, { readonly: true })
    const rows = db.prepare('SELECT kind, subject, SUM(units) AS units FROM rollups GROUP BY kind, subject ORDER BY kind, subject').all()
    db.close()
    return Object.fromEntries((rows as Array<{ kind: string; subject: string; units: number }>).map((r) => [`${r.kind}:${r.subject}`, r.units]))
  }

  it('counts the campaigns viewed and the advisor clicked, once per session, and nothing inactive', async () => {
    // Headless Chromium says `HeadlessChrome`, a bot user agent the collector drops: speak as a person's browser.
    const context = await browser.newContext({ viewport: { width: 800, height: 600 }, userAgent: BROWSER_UA })
    const page = await context.newPage()
    const failed: string[] = []
    page.on('requestfailed', (r) => failed.push(r.url()))
    await page.goto(shopUrl)
    await page.waitForFunction(() => typeof (window as unknown as { tally?: { flush?: unknown } }).tally?.flush === 'function')
    await page.click('[data-tally-advisor="adv_x"]')
    // Viewable: half of the element on screen for one continuous second.
    await page.waitForTimeout(1500)
    await page.evaluate(() => (window as unknown as { tally: { flush(): Promise<void> } }).tally.flush())
    expect(counts()).toEqual({ 'advisor:adv_x': 1, 'campaign:cmp_a': 1, 'campaign:cmp_b': 1, 'campaign:cmp_queued': 1 })

    await page.evaluate(() => document.getElementById('far')?.scrollIntoView())
    await page.waitForTimeout(1500)
    await page.evaluate(() => (window as unknown as { tally: { flush(): Promise<void> } }).tally.flush())
    expect(counts()).toEqual({ 'advisor:adv_x': 1, 'campaign:cmp_a': 1, 'campaign:cmp_b': 1, 'campaign:cmp_far': 1, 'campaign:cmp_queued': 1 })

    // Same session after a reload: seeing everything again counts nothing new.
    await page.reload()
    await page.waitForFunction(() => typeof (window as unknown as { tally?: { flush?: unknown } }).tally?.flush === 'function')
    await page.click('[data-tally-advisor="adv_x"]')
    await page.waitForTimeout(1500)
    await page.evaluate(() => (window as unknown as { tally: { flush(): Promise<void> } }).tally.flush())
    expect(counts()).toEqual({ 'advisor:adv_x': 1, 'campaign:cmp_a': 1, 'campaign:cmp_b': 1, 'campaign:cmp_far': 1, 'campaign:cmp_queued': 1 })
    expect(failed).toEqual([])
    await context.close()
  }, 60_000)

  it('sends the chats of a page with only the script tag exactly once, those called before t.js loaded included, and loads no other script', async () => {
    // A beacon sent as the page goes is the browser's, not the page's: Playwright's per-context
    // user agent does not reach it, and the collector drops "HeadlessChrome" as a bot. This
    // browser says BROWSER_UA in every request.
    const person = await launchChromium([`--user-agent=${BROWSER_UA}`])
    const context = await person.newContext()
    const page = await context.newPage()
    const scripts: string[] = []
    page.on('request', (r) => r.resourceType() === 'script' && scripts.push(new URL(r.url()).pathname))
    const ready = () => page.waitForFunction(() => typeof (window as unknown as { tally?: { flush?: unknown } }).tally?.flush === 'function')
    // The session record t.js stores first, in IndexedDB: a page left before it is committed
    // gives the next page a new session, and a conversation belongs to the session that opened it.
    const sessionStored = () =>
      page.evaluate(
        () =>
          new Promise<boolean>((resolve) => {
            const open = indexedDB.open('tally-ctr_test')
            open.onerror = () => resolve(false)
            open.onsuccess = () => {
              const db = open.result
              const read = db.transaction('kv').objectStore('kv').get('s')
              read.onsuccess = () => resolve(read.result !== undefined)
              read.onerror = () => resolve(false)
              read.transaction?.addEventListener('complete', () => db.close())
            }
          }),
      )
    await page.goto(`${shopUrl}help/`)
    await ready()
    await expect.poll(sessionStored).toBe(true)
    await page.evaluate(() => {
      type Chat = { handoff(): void; resume(): void; end(): void }
      const c = (window as unknown as { tally: { chat(id: string, o: { bot: string }): Chat } }).tally.chat('conv_after_5d2a', { bot: 'bot_help' })
      c.handoff()
      c.resume()
      c.end()
      c.end()
    })
    // Left at once: the beacon of pagehide carries what is not stored or not sent yet.
    await page.goto('about:blank')
    await page.goto(`${shopUrl}help/`)
    await ready()
    await page.evaluate(() => (window as unknown as { tally: { flush(): Promise<void> } }).tally.flush())
    const chats = () => {
      const db = new Database(env.db, { readonly: true })
      const rows = db
        .prepare(
          "SELECT conversation, phase, COUNT(*) AS n FROM chat_events WHERE container = 'ctr_test' GROUP BY conversation, phase ORDER BY conversation, phase",
        )
        .all()
      db.close()
      return rows as Array<{ n: number }>
    }
    // The first page's beacon may still be on its way: wait for six events, then a little longer
    // for any seventh (a phase sent twice under two ids would be one).
    for (let i = 0; i < 50 && chats().reduce((n, r) => n + r.n, 0) < 6; i++) await new Promise((r) => setTimeout(r, 100))
    await new Promise((r) => setTimeout(r, 500))
    const rows = chats()
    // The second load queued its own start of conv_queued_7c1e: a second event of that phase.
    expect(rows).toEqual([
      { conversation: 'conv_after_5d2a', phase: 'end', n: 1 },
      { conversation: 'conv_after_5d2a', phase: 'handoff', n: 1 },
      { conversation: 'conv_after_5d2a', phase: 'resume', n: 1 },
      { conversation: 'conv_after_5d2a', phase: 'start', n: 1 },
      { conversation: 'conv_queued_7c1e', phase: 'start', n: 2 },
    ])
    // Nothing was refused for its session or order.
    const db = new Database(env.db, { readonly: true })
    expect(db.prepare("SELECT reason FROM rejections WHERE container = 'ctr_test' AND (reason LIKE 'conversation%' OR reason LIKE 'event_%')").all()).toEqual(
      [],
    )
    db.close()
    // t.js once per page load, and nothing else: chat needs no second script.
    expect(scripts).toEqual(['/t.js', '/t.js'])
    await person.close()
  }, 60_000)

  it('serves t.js cross-origin with cache validators', async () => {
    const res = await fetch(`${collector.url}/t.js`)
    expect(res.status).toBe(200)
    const etag = res.headers.get('etag') as string
    expect((await fetch(`${collector.url}/t.js`, { headers: { 'if-none-match': etag } })).status).toBe(304)
  })
})

it.runIf(chromiumMissing && process.env.CI === 'true')('has Chromium under CI', () => {
  expect(existsSync(CHROMIUM)).toBe(true)
})
