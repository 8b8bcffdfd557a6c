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
    expect(counts()).toEqual({
      'advisor:adv_x': 1, 'campaign:cmp_a': 1, 'campaign:cmp_b': 1, 'campaign:cmp_far': 1, 'campaign:cmp_queued': 1,
    })
    expect(failed).toEqual([])
    await context.close()
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
