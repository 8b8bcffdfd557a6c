/**
 * The README's "Try it" as a newcomer walks it, in a real browser, against `tally start` (what
 * `npm start` runs) on a port that is not the default, chosen through `PORT`: the banner's
 * addresses are the ones used. The storefront (impressions, advisor clicks), the help chat, the
 * server-side example with the banner's `TALLY_URL`, then the dashboard: sign-in, its numbers,
 * the range in the address, presets, a refused range, tooltips, and a phone-width screen that
 * never scrolls sideways. No page may log a console error.
 *
 * `TALLY_SCREENSHOTS=1` also writes docs/dashboard-mobile.png for the README.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Browser, BrowserContext, Page, Route } from 'playwright-core'
import { launchChromium, skipWithoutChromium } from './chromium.js'
import { expectAccessible } from './axe.js'
import { BROWSER_UA, CLI, ROOT, freePort, requireBuilt } from './e2e-process.js'

const SCREENSHOTS = process.env.TALLY_SCREENSHOTS === '1'

type TallyWindow = { tally?: { flush?: () => Promise<void> }; tallyChat?: { flush(): Promise<void> } }

/** The demo config as shipped, with a subscription that started two months ago (invoices to list) and limits a fast test never meets. */
function demoConfig(dir: string): string {
  const cfg = JSON.parse(readFileSync(join(ROOT, 'examples/demo.config.json'), 'utf8'))
  cfg.accounts.demo.subscription.start = new Date(Date.now() - 65 * 86_400_000).toISOString().slice(0, 10)
  cfg.server = { rateLimits: { perIp: { rate: 1e6, burst: 1e6 }, perContainer: { rate: 1e6, burst: 1e6 } } }
  const file = join(dir, 'config.json')
  writeFileSync(file, JSON.stringify(cfg))
  return file
}

/** The value after a banner label (`  Dashboard         http://…`). */
const bannerLine = (banner: string, label: string) => {
  const line = banner.split('\n').find((l) => l.trimStart().startsWith(label))
  if (!line) throw new Error(`no "${label}" in the banner:\n${banner}`)
  return line.trimStart().slice(label.length).trim()
}

describe.skipIf(skipWithoutChromium)('the first hour, as the README walks it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-first-hour-'))
  let child: ChildProcess
  let banner = ''
  let port = 0
  let browser: Browser
  let context: BrowserContext
  const consoleErrors: string[] = []

  /** A page whose console errors and uncaught exceptions are collected, whatever page it is. */
  const open = async (url: string, ctx = context) => {
    const page = await ctx.newPage()
    page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`)
    })
    await page.goto(url)
    return page
  }

  beforeAll(async () => {
    requireBuilt(join(ROOT, 'packages/sdk/dist/t.js'), join(ROOT, 'packages/sdk/dist/index.js'))
    port = await freePort()
    child = spawn(process.execPath, [CLI, 'start'], {
      cwd: dir,
      env: { ...process.env, PORT: String(port), TALLY_CONFIG: demoConfig(dir), TALLY_ADMIN_TOKEN: '', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.on('data', (d) => (banner += d))
    child.stderr?.on('data', (d) => (banner += d))
    const deadline = Date.now() + 20_000
    while (!banner.includes('Admin token')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tally start did not start: ${banner}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    browser = await launchChromium()
    // Headless Chromium says `HeadlessChrome`, which the collector drops as a bot (docs/getting-started.md):
    // a storefront's own browser tests speak as a person's browser, as here.
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, userAgent: BROWSER_UA })
  }, 60_000)

  afterAll(async () => {
    await context?.close()
    await browser?.close()
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  })

  it('prints the addresses of the port it was given', () => {
    expect(bannerLine(banner, 'Tally collector')).toBe(`http://127.0.0.1:${port}`)
    expect(bannerLine(banner, 'Dashboard')).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/dashboard\\b`))
    expect(bannerLine(banner, 'Server usage')).toMatch(new RegExp(`^TALLY_URL=http://127\\.0\\.0\\.1:${port} node examples/server-usage/send\\.mjs`))
    expect(bannerLine(banner, 'Demo storefront')).toMatch(/^http:\/\/localhost:\d+\//)
  })

  it("counts the storefront's banners and advisor clicks, and the help chat", async () => {
    const shopUrl = bannerLine(banner, 'Demo storefront').split(/\s/)[0] as string
    const page = await open(shopUrl)
    await page.waitForFunction(() => typeof (window as unknown as TallyWindow).tally?.flush === 'function')
    await page.waitForFunction(() => Boolean((window as unknown as TallyWindow).tallyChat))
    await expectAccessible(page, 'the demo storefront')
    await page.click('[data-tally-advisor="adv_shoes"]')
    await page.waitForTimeout(1300)
    for (const campaign of ['cmp_running', 'cmp_bundle']) {
      await page.locator(`[data-tally-campaign="${campaign}"]`).scrollIntoViewIfNeeded()
      await page.waitForTimeout(1300)
    }
    await page.click('[data-tally-advisor="adv_gifts"]')
    await page.evaluate(() => (window as unknown as TallyWindow).tally?.flush?.())

    await page.click('[data-chat="open"]')
    await page.fill('.tc-input', 'Do your shoes run true to size?')
    await page.click('[data-chat="send"]')
    await page.getByText('run true to size.').waitFor()
    await expectAccessible(page, 'the storefront with the help chat open')
    await page.click('[data-chat="end"]')
    await page.evaluate(() => (window as unknown as TallyWindow).tallyChat?.flush())
    await page.close()

    // The ESM example page on its own.
    const widget = await open(`${shopUrl}chat-widget/`)
    await widget.waitForFunction(() => Boolean((window as unknown as TallyWindow).tallyChat))
    await expectAccessible(widget, 'the ESM chat widget example')
    await widget.close()
  }, 60_000)

  it('runs the server-usage command the banner prints', async () => {
    const command = bannerLine(banner, 'Server usage').split('   ')[0] as string
    const [assignment, , script] = command.split(' ')
    const [name, value] = (assignment as string).split('=')
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, script as string)], { env: { ...process.env, [name as string]: value } })
    expect(stdout).toContain('the same batch again: duplicate')
  }, 30_000)

  it('signs in to the dashboard and shows those numbers, names, the plan and newest invoices first', async () => {
    const token = bannerLine(banner, 'Admin token').split(/\s/)[0]
    const bill = await fetch(`http://127.0.0.1:${port}/v1/admin/billing/run`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' })
    expect(bill.status).toBe(200)

    const readKey = bannerLine(banner, 'Read key').split(/\s/)[0] as string
    const page = await open(bannerLine(banner, 'Dashboard').split(/\s/)[0] as string)
    await expectAccessible(page, 'the dashboard sign-in')
    await page.fill('input[name="key"]', readKey)
    await page.click('button[type="submit"]')
    await page.waitForSelector('body[data-ready="true"]')

    // Exactly what the API counts: every banner that was half in view for a second, the two advisors, one chat.
    const api = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${readKey}` } }).then((r) => r.json())
    await expectAccessible(page, 'the dashboard, signed in')
    const counted = (await api('/v1/usage')).rows[0]
    expect(counted).toMatchObject({ engagements: 2, chatSessions: 1, alerts: 3 })
    const total = (m: string) => page.locator(`[data-total="${m}"]`).textContent()
    for (const m of ['impressions', 'engagements', 'chatSessions', 'alerts', 'credits']) expect(await total(m)).toBe(counted[m].toLocaleString('en-US'))
    const campaigns = (await api('/v1/usage?groupBy=campaign')).rows.filter((r: { campaign: string | null }) => r.campaign)
    expect(campaigns.map((r: { campaign: string }) => r.campaign)).toEqual(expect.arrayContaining(['cmp_bundle', 'cmp_running', 'cmp_summer']))
    const titles: Record<string, string> = {
      cmp_bundle: 'Shoe-care bundle',
      cmp_running: 'Running shoes',
      cmp_summer: 'Summer sale',
      cmp_newsletter: 'Newsletter sign-up',
    }
    expect(await page.locator('#by-campaign tbody tr').allTextContents()).toEqual(
      campaigns.map((r: { campaign: string; impressions: number }) => `${titles[r.campaign]} (${r.campaign})${r.impressions}`),
    )
    expect(await page.locator('#by-bot tbody tr').allTextContents()).toEqual(['Help chat (bot_help)1'])
    expect(await page.locator('#period-bounds').textContent()).toContain('plan Growth')
    expect(await page.locator('#period-preview').textContent()).toMatch(
      new RegExp(`For the period \\d{4}-\\d\\d-\\d\\d – \\d{4}-\\d\\d-\\d\\d .*from the usage so far.*: ${counted.impressions} impressions`),
    )
    expect(await page.locator('#zone-note').textContent()).toContain('Europe/Amsterdam')
    expect(await page.locator('#credit-log th').first().textContent()).toBe('When (Europe/Amsterdam)')
    const issued = await page.locator('#invoice-list tbody tr td:nth-child(2)').allTextContents()
    expect(issued.length).toBeGreaterThan(0)
    expect(issued).toEqual([...issued].sort().reverse())
    // The range is in the address from the start.
    expect(new URL(page.url()).searchParams.get('to')).toMatch(/^\d{4}-\d\d-\d\d$/)
    await page.close()
  }, 60_000)

  it('keeps the range in the address, counts presets back from today, and refuses a bad range in place of the numbers', async () => {
    const dashboard = bannerLine(banner, 'Dashboard').split(/\s/)[0] as string
    const page = await open(dashboard)
    await page.waitForSelector('body[data-ready="true"]')
    const today = await page.inputValue('input[name="to"]')

    // A preset counts back from today, whatever the form holds, and the address follows.
    await page.fill('input[name="to"]', '2026-01-15')
    await page.click('[data-days="7"]')
    await page.waitForFunction((t) => new URL(location.href).searchParams.get('to') === t, today)
    const from = await page.inputValue('input[name="from"]')
    expect(Date.parse(today) - Date.parse(from)).toBe(6 * 86_400_000)

    // From after To: the message replaces the numbers; nothing stale stays beside it.
    await page.fill('input[name="from"]', today)
    await page.fill('input[name="to"]', from)
    await page.click('#range button[type="submit"]')
    await expect(page.locator('#usage-error').textContent()).resolves.toContain('is after To')
    expect(await page.locator('[data-total="impressions"]').textContent()).toBe('–')
    expect(await page.locator('canvas').count()).toBe(0)
    await expectAccessible(page, 'the dashboard refusing a range')

    // The answers to a range asked for before a refused one arrive after it: the message stays.
    const held: Route[] = []
    let finished = 0
    const usageAnswer = /\/v1\/usage\?from=/
    page.on('requestfinished', (r) => void (usageAnswer.test(r.url()) && finished++))
    await page.route(usageAnswer, (route) => void held.push(route))
    await page.click('[data-days="7"]')
    await expect.poll(() => held.length).toBe(6)
    await page.fill('input[name="from"]', today)
    await page.fill('input[name="to"]', from)
    await page.click('#range button[type="submit"]')
    await Promise.all(held.map((r) => r.continue()))
    await page.unroute(usageAnswer)
    await expect.poll(() => finished).toBe(6)
    await page.evaluate(() => new Promise((done) => setTimeout(done, 100)))
    expect(await page.locator('#usage-error').textContent()).toContain('is after To')
    expect(await page.locator('[data-total="impressions"]').textContent()).toBe('–')
    expect(await page.locator('canvas').count()).toBe(0)

    // A day in the future is refused.
    await page.fill('input[name="from"]', from)
    await page.fill('input[name="to"]', '2999-01-01')
    await page.click('#range button[type="submit"]')
    await expect(page.locator('#usage-error').textContent()).resolves.toContain('in the future')

    // A reload of an address with a range shows that range; Back shows the one before.
    await page.goto(`${dashboard}?from=${from}&to=${today}`)
    await page.waitForSelector('body[data-ready="true"]')
    expect(await page.inputValue('input[name="from"]')).toBe(from)
    expect(await page.locator('#usage-error').isHidden()).toBe(true)
    expect(Number(await page.locator('[data-total="impressions"]').textContent())).toBeGreaterThanOrEqual(3)

    // A chart names what it shows, and a hover tells the day and the count.
    const chart = page.locator('[data-chart="impressions"]')
    expect(await chart.getAttribute('aria-label')).toMatch(/^Impressions per day from .*: \d+ in all, at most \d+ on /)
    await chart.scrollIntoViewIfNeeded()
    const box = await chart.locator('.u-over').boundingBox()
    if (!box) throw new Error('no chart area')
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2, { steps: 5 })
    await chart.locator('.tip').waitFor({ state: 'visible', timeout: 5000 })
    await expect(chart.locator('.tip').textContent()).resolves.toMatch(new RegExp(`^${today}: \\d+ impressions$`))
    await page.close()
  }, 60_000)

  it('fits a 390 px screen without scrolling sideways', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, userAgent: BROWSER_UA, deviceScaleFactor: 1 })
    // The storefront's beacons are answered here: this visit must not change the counts the other tests read.
    await phone.route('**/v1/containers/**', (r) =>
      r.fulfill({ status: 200, contentType: 'application/json', body: '{"accepted":0,"duplicates":0,"rejected":[]}' }),
    )
    const width = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth)
    try {
      const shopUrl = bannerLine(banner, 'Demo storefront').split(/\s/)[0] as string
      const shop = await open(shopUrl, phone)
      await shop.waitForFunction(() => Boolean((window as unknown as TallyWindow).tallyChat))
      expect(await width(shop)).toBeLessThanOrEqual(390)
      await expectAccessible(shop, 'the demo storefront at 390 px')
      // By keyboard: the launcher opens the chat on the message field; the close button (before it)
      // closes it and gives the focus back to the launcher.
      await shop.focus('[data-chat="open"]')
      await shop.keyboard.press('Enter')
      await shop.locator('.tc-input').waitFor()
      expect(await shop.evaluate(() => document.activeElement?.className)).toBe('tc-input')
      expect(await width(shop)).toBeLessThanOrEqual(390)
      await shop.keyboard.press('Shift+Tab')
      await shop.keyboard.press('Enter')
      await shop.locator('[data-chat="open"]').waitFor()
      expect(await shop.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.chat)).toBe('open')
      await shop.close()
      const widget = await open(`${shopUrl}chat-widget/`, phone)
      expect(await width(widget)).toBeLessThanOrEqual(390)
      await widget.close()
      const dashboard = bannerLine(banner, 'Dashboard').split(/\s/)[0] as string
      const signIn = await open(dashboard, phone)
      expect(await width(signIn)).toBeLessThanOrEqual(390)
      await signIn.fill('input[name="key"]', bannerLine(banner, 'Read key').split(/\s/)[0] as string)
      await signIn.click('button[type="submit"]')
      await signIn.waitForSelector('body[data-ready="true"]')
      expect(await width(signIn)).toBeLessThanOrEqual(390)
      await expectAccessible(signIn, 'the dashboard at 390 px')
      if (SCREENSHOTS) await signIn.screenshot({ path: join(ROOT, 'docs/dashboard-mobile.png'), fullPage: true })
      await signIn.close()
    } finally {
      await phone.close()
    }
  }, 60_000)

  it('logged no console error on any page', () => {
    expect(consoleErrors).toEqual([])
  })
})
