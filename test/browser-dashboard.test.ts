/**
 * The newcomer's path in a real browser: the demo storefront (examples/storefront, tracked by the
 * script tag alone) on a `.test` shop domain with the help chat (examples/chat-widget, the ESM
 * SDK), the server-side example (examples/server-usage), then the dashboard on the collector,
 * which must show exactly what was done, and invoices to download.
 *
 * `TALLY_SCREENSHOTS=1` also writes docs/storefront.png and docs/dashboard.png for the README.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Server } from 'node:http'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { CHROMIUM, chromiumMissing, launchChromium, skipWithoutChromium } from './chromium.js'
import { startStorefront } from '../apps/collector/src/storefront.js'
import { BROWSER_UA, ROOT, freePort, requireBuilt, startCollector, type Collector } from './e2e-process.js'
import { batch, impression } from '../apps/collector/src/testkit.js'

const SCREENSHOTS = process.env.TALLY_SCREENSHOTS === '1'
const ADMIN = 'admin-process-test'

/**
 * The demo config as shipped, with a subscription that started two months ago so that the
 * billing run has closed periods to invoice, and rate limits a fast test never meets.
 */
function demoConfig(dir: string): string {
  const cfg = JSON.parse(readFileSync(join(ROOT, 'examples/demo.config.json'), 'utf8'))
  const start = new Date(Date.now() - 65 * 86_400_000).toISOString().slice(0, 10)
  cfg.accounts.demo.subscription.start = start
  cfg.server = { rateLimits: { perIp: { rate: 1e6, burst: 1e6 }, perContainer: { rate: 1e6, burst: 1e6 } } }
  const file = join(dir, 'config.json')
  writeFileSync(file, JSON.stringify(cfg))
  return file
}

type TallyWindow = { tally?: { flush?: () => Promise<void> }; tallyChat?: { flush(): Promise<void> } }

describe.skipIf(skipWithoutChromium)('the demo in a real browser: storefront, chat, server usage, dashboard', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-dashboard-'))
  let collector: Collector
  let collectorUrl: string
  let shop: Server
  let shopUrl: string
  let browser: Browser
  let context: BrowserContext

  beforeAll(async () => {
    requireBuilt(join(ROOT, 'packages/sdk/dist/t.js'), join(ROOT, 'packages/sdk/dist/index.js'))
    const port = await freePort()
    collector = await startCollector({ config: demoConfig(dir), db: join(dir, 'tally.db'), port })
    // The pages reach the collector by a name of the shop's domain, as a real deployment would.
    collectorUrl = `http://collector.demo.test:${port}`
    const s = await startStorefront({ collectorUrl, port: 0, host: '127.0.0.1' })
    shop = s.server
    shopUrl = `http://shop.demo.test:${s.port}/`
    browser = await launchChromium()
    // Headless Chromium says `HeadlessChrome`, a bot user agent the collector drops: speak as a person's browser.
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, userAgent: BROWSER_UA, acceptDownloads: true })
  })

  afterAll(async () => {
    await context?.close()
    await browser?.close()
    shop?.close()
    await collector?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const flushShop = (page: Page) => page.evaluate(() => (window as unknown as TallyWindow).tally?.flush?.())
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${collector.url}${path}`, {
      ...init,
      headers: { authorization: 'Bearer rk_demo_read_key', 'content-type': 'application/json', ...init.headers },
    })
    expect(res.status, path).toBe(200)
    return res.json()
  }

  it('counts the campaigns viewed, the advisors clicked and the chat with a handoff', async () => {
    const page = await context.newPage()
    const failed: string[] = []
    page.on('requestfailed', (r) => failed.push(r.url()))
    await page.goto(shopUrl)
    await page.waitForFunction(() => typeof (window as unknown as TallyWindow).tally?.flush === 'function')
    await page.waitForFunction(() => Boolean((window as unknown as TallyWindow).tallyChat))

    // The hero banner is in view at once; its button is an advisor. A second click counts nothing.
    await page.click('[data-tally-advisor="adv_shoes"]')
    await page.click('[data-tally-advisor="adv_shoes"]')
    await page.waitForTimeout(1300)
    // Each banner must stay half in view for a continuous second; the inactive one is refused.
    for (const campaign of ['cmp_running', 'cmp_bundle', 'cmp_newsletter', 'cmp_old']) {
      await page.locator(`[data-tally-campaign="${campaign}"]`).scrollIntoViewIfNeeded()
      await page.waitForTimeout(1300)
    }
    await page.click('[data-tally-advisor="adv_size"]')
    await page.click('[data-tally-advisor="adv_gifts"]')
    await flushShop(page)

    // The help chat: a question to the bot, a handoff to a person, back to the bot, then closed.
    await page.click('[data-chat="open"]')
    await page.fill('.tc-input', 'Do your shoes run true to size?')
    await page.click('[data-chat="send"]')
    await page.getByText('run true to size.').waitFor()
    await page.click('[data-chat="handoff"]')
    await page.getByText('joined the chat').waitFor()
    await page.click('[data-chat="resume"]')
    if (SCREENSHOTS) {
      await page.evaluate(() => window.scrollTo(0, 0))
      await page.waitForTimeout(300)
      await page.screenshot({ path: join(ROOT, 'docs/storefront.png') })
    }
    await page.click('[data-chat="end"]')
    await page.evaluate(() => (window as unknown as TallyWindow).tallyChat?.flush())
    expect(failed).toEqual([])

    const byCampaign = await api('/v1/usage?groupBy=campaign')
    expect(byCampaign.rows.filter((r: { campaign: string | null }) => r.campaign)).toEqual([
      expect.objectContaining({ campaign: 'cmp_bundle', impressions: 1 }),
      expect.objectContaining({ campaign: 'cmp_newsletter', impressions: 1 }),
      expect.objectContaining({ campaign: 'cmp_running', impressions: 1 }),
      expect.objectContaining({ campaign: 'cmp_summer', impressions: 1 }),
    ])
    const totals = (await api('/v1/usage')).rows[0]
    expect(totals).toEqual({ impressions: 4, engagements: 3, chatSessions: 1, alerts: 0, credits: 0, suspicious: 0 })
    const refused = await api('/v1/rejections')
    // Per-event refusals are counted too now (docs/security.md): the demo page shows its inactive
    // campaign, refused once; no beacon is refused whole.
    expect(refused.rejections).toEqual([expect.objectContaining({ reason: 'inactive_campaign', subject: 'cmp_old', origin: 'shop.demo.test', count: 1 })])
    await page.close()
  }, 90_000)

  it('counts the server-side example: alert sessions and credits spent', async () => {
    const run = promisify(execFile)
    const { stdout } = await run(process.execPath, [join(ROOT, 'examples/server-usage/send.mjs')], {
      env: { ...process.env, TALLY_URL: collector.url, TALLY_SECRET_KEY: 'sk_demo_secret_key' },
    })
    expect(stdout).toContain('the same batch again: duplicate, duplicate')
    // sms 3 x 2 + ai 10 + form 5 x 1, then alice's sms 2.
    expect((await api('/v1/usage')).rows[0]).toEqual({ impressions: 4, engagements: 3, chatSessions: 1, alerts: 3, credits: 23, suspicious: 0 })
  }, 30_000)

  it('refuses a wrong key with a clear message', async () => {
    const page = await context.newPage()
    await page.goto(`${collectorUrl}/dashboard`)
    await page.fill('input[name="key"]', 'rk_not_a_key')
    await page.click('button[type="submit"]')
    await expect(page.getByRole('alert').textContent()).resolves.toContain('That key does not open any account')
    expect((await context.cookies(collectorUrl)).find((c) => c.name === 'tally_session')).toBeUndefined()
    await page.close()
  })

  it('signs in with the read key and shows exactly those counts, then invoices to download', async () => {
    const bill = await fetch(`${collector.url}/v1/admin/billing/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(bill.status).toBe(200)
    const invoices = (await api('/v1/invoices')).invoices as Array<{ number: number }>
    expect(invoices.length).toBeGreaterThan(0)

    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    await page.goto(`${collectorUrl}/dashboard`)
    await page.fill('input[name="key"]', 'rk_demo_read_key')
    await page.click('button[type="submit"]')
    await page.waitForSelector('body[data-ready="true"]')
    const cookie = (await context.cookies(collectorUrl)).find((c) => c.name === 'tally_session')
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' })

    const total = (m: string) => page.locator(`[data-total="${m}"]`).textContent()
    expect(await total('impressions')).toBe('4')
    expect(await total('engagements')).toBe('3')
    expect(await total('chatSessions')).toBe('1')
    expect(await total('alerts')).toBe('3')
    expect(await total('credits')).toBe('23')
    // Suspicious units sit beside the billed figures, said not billed; none yet: the empty state.
    expect(await total('suspicious')).toBe('0')
    expect(await page.locator('#suspicious-card .label').textContent()).toContain('not billed')
    expect(await page.locator('#suspicious-note').textContent()).toBe('None in this range: every session was within the hourly cap.')
    expect(await page.locator('#by-container thead th').allTextContents()).toEqual(['Container', 'Impr.', 'Eng.', 'Chat'])
    const campaigns = await page.locator('#by-campaign tbody tr').allTextContents()
    // The demo config names its campaigns, advisors and bot: the dashboard shows the name with the id.
    expect(campaigns).toEqual([
      'Shoe-care bundle (cmp_bundle)1',
      'Newsletter sign-up (cmp_newsletter)1',
      'Running shoes (cmp_running)1',
      'Summer sale (cmp_summer)1',
    ])
    expect(await page.locator('#by-advisor tbody tr').allTextContents()).toEqual([
      'Gift ideas (adv_gifts)1',
      'Shoe finder (adv_shoes)1',
      'Size advisor (adv_size)1',
    ])
    expect(await page.locator('#by-bot tbody tr').allTextContents()).toEqual(['Help chat (bot_help)1'])
    expect(await page.locator('#period [data-period="impressions"] .value').textContent()).toBe('4')
    expect(await page.locator('#period [data-period="alerts"] .value').textContent()).toBe('3')
    expect(await page.locator('#credit-log tbody tr').count()).toBeGreaterThan(0)
    expect(await page.locator('canvas').count()).toBe(3)
    expect(await page.locator('#invoice-list tbody tr').count()).toBe(invoices.length)
    if (SCREENSHOTS) await page.screenshot({ path: join(ROOT, 'docs/dashboard.png'), fullPage: true })

    const [pdf] = await Promise.all([page.waitForEvent('download'), page.locator('[data-download="pdf"]').first().click()])
    expect(pdf.suggestedFilename()).toMatch(/^invoice-demo-\d+\.pdf$/)
    expect(
      readFileSync(await pdf.path())
        .subarray(0, 5)
        .toString('latin1'),
    ).toBe('%PDF-')
    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('[data-download="csv"]').first().click()])
    expect(csv.suggestedFilename()).toMatch(/^invoice-demo-\d+\.csv$/)
    expect(readFileSync(await csv.path(), 'utf8')).toMatch(
      /^invoice,issued,kind,description,from,to,quantity,unit_price_minor,months,proration,discount_minor,amount_minor,currency\r\n/,
    )
    // "Why this amount": the evidence of the invoice, a charge row per line at least.
    const [evidence] = await Promise.all([page.waitForEvent('download'), page.locator('[data-download="evidence"]').first().click()])
    expect(evidence.suggestedFilename()).toMatch(/^evidence-demo-\d+\.csv$/)
    expect(readFileSync(await evidence.path(), 'utf8')).toMatch(/^line,lineKind,meter,record,id,container,session,subject,time,end,.*\r\n1,base,,charge,/)
    expect(errors).toEqual([])

    // Signing out ends the session: the read API no longer answers the page.
    await page.click('text=Sign out')
    await page.waitForSelector('input[name="key"]')
    expect(await page.evaluate(async () => (await fetch('/v1/usage')).status)).toBe(401)
    await page.close()
  }, 60_000)

  it('shows the units of sessions past the hourly cap as suspicious, not billed, and why', async () => {
    // 150 new sessions from this address in one beacon: those past the cap (120 an hour, shared
    // with the visits above) are stored as suspicious (docs/security.md).
    const now = Date.now()
    const res = await fetch(`${collector.url}/v1/containers/ctr_demo/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: shopUrl.slice(0, -1), 'user-agent': BROWSER_UA },
      body: JSON.stringify(
        batch(
          Array.from({ length: 150 }, (_, i) => impression('cmp_summer', `s_flood_${i}`, `flood_${i}`, now)),
          now,
        ),
      ),
    })
    expect(res.status).toBe(200)
    const totals = (await api('/v1/usage')).rows[0] as { impressions: number; suspicious: number }
    expect(totals.suspicious).toBeGreaterThan(0)
    expect(totals.impressions + totals.suspicious).toBe(4 + 150)

    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${collectorUrl}/dashboard`)
    await page.fill('input[name="key"]', 'rk_demo_read_key')
    await page.click('button[type="submit"]')
    await page.waitForSelector('body[data-ready="true"]')
    const total = (m: string) => page.locator(`[data-total="${m}"]`).textContent()
    expect(await total('suspicious')).toBe(String(totals.suspicious))
    // The billed figure beside it leaves them out.
    expect(await total('impressions')).toBe(totals.impressions.toLocaleString('en-US'))
    expect(await page.locator('#suspicious-card').getAttribute('class')).toContain('some')
    expect(await page.locator('#suspicious-note').textContent()).toContain('not invoiced')
    const why = page.locator('#suspicious-card a.why')
    expect(await why.getAttribute('href')).toBe('#rejections')
    expect(await why.getAttribute('title')).toContain('server.sessionsPerHour')
    // The reason it links to: the refused beacons list explains `suspicious`.
    expect(await page.locator('#rejection-list [data-reason="suspicious"]').textContent()).toContain('never billed')
    expect(await page.locator('#by-container thead th').allTextContents()).toEqual(['Container', 'Impr.', 'Eng.', 'Chat', 'Not billed'])
    expect(await page.locator('#by-container tbody tr').first().locator('td').last().textContent()).toBe(String(totals.suspicious))
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)
})

it.runIf(chromiumMissing && process.env.CI === 'true')('has Chromium under CI', () => {
  expect(existsSync(CHROMIUM)).toBe(true)
})
