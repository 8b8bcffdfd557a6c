/**
 * The billing portal in a real browser (docs/portal.md): the demo account's manager walks every
 * action with the mouse on a desktop screen, then again with the keyboard alone on a 390 px phone;
 * each result is checked through the API, the page logs no console error, and axe-core finds no
 * serious or critical violation.
 *
 * `TALLY_SCREENSHOTS=1` also writes docs/portal.png and docs/portal-mobile.png for the README.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { expectAccessible } from './axe.js'
import { launchChromium, skipWithoutChromium } from './chromium.js'
import { ROOT, freePort, requireBuilt, startCollector, type Collector } from './e2e-process.js'
import { startReceiver, type Receiver } from './webhook-receiver.js'

const SCREENSHOTS = process.env.TALLY_SCREENSHOTS === '1'
const ADMIN = 'admin-process-test'
const SK = 'sk_demo_secret_key'
const RK = 'rk_demo_read_key'

/** The demo config as shipped, with a subscription that started two months ago (invoices to list). */
function demoConfig(dir: string): string {
  const cfg = JSON.parse(readFileSync(join(ROOT, 'examples/demo.config.json'), 'utf8'))
  cfg.accounts.demo.subscription.start = new Date(Date.now() - 65 * 86_400_000).toISOString().slice(0, 10)
  // The webhook receiver of this test listens on loopback.
  cfg.server = { webhooks: { allowPrivateNetworks: true } }
  const file = join(dir, 'config.json')
  writeFileSync(file, JSON.stringify(cfg))
  return file
}

describe.skipIf(skipWithoutChromium)('the billing portal in a real browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-portal-'))
  let collector: Collector
  let browser: Browser
  let receiver: Receiver

  const api = async (path: string, init: RequestInit & { key?: string } = {}) => {
    const res = await fetch(`${collector.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${init.key ?? RK}`, 'content-type': 'application/json', ...init.headers },
    })
    expect(res.status, path).toBe(200)
    // biome-ignore lint/suspicious/noExplicitAny: one reader for the answers of many routes; each assertion states the shape it expects
    return res.json() as Promise<any>
  }
  const account = async () => (await api('/v1/admin/accounts/demo', { key: ADMIN })).account
  const balance = async (wallet: string) => (await api('/v1/credits')).wallets[wallet]?.balance ?? 0
  const invoices = async () => (await api('/v1/invoices')).invoices as { number: number; kind: string; total: number }[]

  beforeAll(async () => {
    requireBuilt(join(ROOT, 'apps/collector/dist/web/portal.js'))
    const port = await freePort()
    collector = await startCollector({ config: demoConfig(dir), db: join(dir, 'tally.db'), port })
    await api('/v1/admin/billing/run', { method: 'POST', key: ADMIN, body: '{}' })
    receiver = await startReceiver()
    const res = await fetch(`${collector.url}/v1/admin/accounts/demo/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url }),
    })
    receiver.secret = ((await res.json()) as { secret: string }).secret
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await collector?.stop()
    await receiver?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** A signed-in portal, opened from a link the vendor's backend minted; console errors collected. */
  async function open(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport, acceptDownloads: true })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text())
    })
    page.on('pageerror', (e) => errors.push(e.message))
    const { url } = await api('/v1/portal/sessions', { method: 'POST', key: SK, body: JSON.stringify({ returnUrl: 'https://app.demo.test/settings' }) })
    await page.goto(url)
    await page.waitForURL(/\/portal$/)
    await page.getByRole('heading', { name: 'Current plan' }).waitFor()
    return { context, page, errors }
  }

  it('walks every action with the mouse on a desktop screen, each checked through the API', async () => {
    const { context, page, errors } = await open({ width: 1280, height: 900 })
    await expectAccessible(page, 'the portal on load')
    const dialog = page.getByRole('dialog')

    // An upgrade: two more seats, charged at once, prorated; the preview names the amount.
    const before = await invoices()
    await page.getByRole('button', { name: 'Change plan' }).click()
    await dialog.getByLabel('Seats').fill('5')
    await dialog.getByRole('button', { name: 'Review change' }).click()
    await expect.poll(() => dialog.textContent()).toMatch(/You will be charged €[\d,.]+ now/)
    await expectAccessible(page, 'the change preview')
    const charged = /You will be charged (€[\d,.]+) now/.exec((await dialog.textContent()) ?? '')?.[1]
    await dialog.getByRole('button', { name: /^Confirm and pay/ }).click()
    await page.getByText('Plan changed.').first().waitFor()
    const upgrade = (await invoices()).filter((i) => !before.some((b) => b.number === i.number))
    expect(upgrade.map((i) => i.kind)).toEqual(['upgrade'])
    expect(`€${(upgrade[0]!.total / 100).toFixed(2)}`).toBe(charged)
    expect((await account()).subscription.changes.at(-1)).toMatchObject({ seats: 5 })

    // A downgrade waits for the period's end, and says so.
    await page.getByRole('button', { name: 'Change plan' }).click()
    await dialog.getByLabel('Seats').fill('2')
    await dialog.getByRole('button', { name: 'Review change' }).click()
    await dialog.getByText('Nothing is charged now.').waitFor()
    await dialog.getByRole('button', { name: 'Confirm change' }).click()
    await page
      .getByText(/^Change scheduled for/)
      .first()
      .waitFor()
    await page.locator('.notice', { hasText: 'Change scheduled' }).waitFor()
    expect((await account()).subscription.changes.at(-1)).toMatchObject({ seats: 2 })

    // A credit pack, with a double click: one pack.
    const credits = await balance('account')
    await page.getByRole('button', { name: 'Buy credits' }).click()
    await dialog.getByRole('button', { name: 'Buy pack' }).dblclick()
    await page
      .getByText(/credits added/)
      .first()
      .waitFor()
    expect(await balance('account')).toBe(credits + 1000)
    expect((await api('/v1/credits/log')).entries.filter((e: { type: string }) => e.type === 'purchase')).toHaveLength(1)

    // An email pack for this month.
    await page.getByRole('button', { name: 'Buy an email pack' }).click()
    await dialog.getByRole('button', { name: 'Buy pack' }).click()
    await page
      .getByText(/emails added to this month/)
      .first()
      .waitFor()
    expect((await api('/v1/period')).emails.granted).toBe(5000)

    // Credits to a member: irreversible, said before it is done.
    await page.getByRole('button', { name: 'Send credits to a team member' }).click()
    await dialog.getByLabel('Credits').fill('150')
    await dialog.getByRole('button', { name: 'Review' }).click()
    await dialog.getByText('This cannot be undone').waitFor()
    await dialog.getByRole('button', { name: 'Send credits' }).click()
    await page
      .getByText(/150 credits sent to alice/)
      .first()
      .waitFor()
    expect(await balance('member:alice')).toBe(150)

    // The credit log, filtered.
    await page.getByLabel('Type').selectOption('purchase')
    await page.getByRole('button', { name: 'Show' }).click()
    await expect.poll(async () => page.locator('.log tbody tr').count()).toBe(1)
    await expect.poll(() => page.locator('.log').textContent()).toContain('Bought pack small')

    // Invoice information, printed on the invoices issued after it.
    await page.getByLabel('Company name').fill('Demo Shop B.V.')
    await page.getByLabel('Address').fill('Damrak 1\n1012 LG Amsterdam')
    await page.getByLabel('Tax id (VAT)').fill('NL001234567B01')
    await page.getByLabel('Billing e-mail').fill('billing@demo.test')
    await page.getByRole('button', { name: 'Save' }).click()
    await page
      .getByText(/Invoice information saved/)
      .first()
      .waitFor()
    await page.getByRole('button', { name: 'Buy credits' }).click()
    await dialog.getByRole('button', { name: 'Buy pack' }).click()
    await page
      .getByText(/credits added/)
      .first()
      .waitFor()
    const all = await invoices()
    const latest = await api(`/v1/invoices/${all.at(-1)!.number}.json`)
    expect(latest.billTo).toMatchObject({ company: 'Demo Shop B.V.', taxId: 'NL001234567B01' })
    expect((await api(`/v1/invoices/${all[0]!.number}.json`)).billTo).toBeUndefined()

    // An invoice downloads as PDF.
    const download = page.waitForEvent('download')
    await page.getByRole('link', { name: `Invoice ${all[0]!.number} as PDF` }).click()
    expect((await download).suggestedFilename()).toBe(`invoice-demo-${all[0]!.number}.pdf`)

    // A failed payment reported by the vendor: a notice in the portal and the dashboard until it is paid.
    await api(`/v1/invoices/${all[0]!.number}/payments`, {
      method: 'POST',
      key: SK,
      body: JSON.stringify({ id: 'pay_1', status: 'failed', reference: 'ch_declined' }),
    })
    await page.reload()
    await page.locator('.notice.critical', { hasText: 'Payment failed' }).waitFor()
    expect((await api('/v1/notices')).notices[0].kind).toBe('payment_failed')
    // The dashboard shows it too, in its notices banner, announced as an alert.
    const dash = await page.context().newPage()
    await dash.goto(`${collector.url}/dashboard`)
    await dash.fill('input[name="key"]', RK)
    await dash.click('button[type="submit"]')
    await dash.waitForSelector('body[data-ready="true"]')
    const banner = dash.locator('#notices')
    expect(await banner.isVisible()).toBe(true)
    expect(await banner.locator('.notice.critical[role="alert"]').textContent()).toMatch(/payment of invoice \d+ failed/)
    await api(`/v1/invoices/${all[0]!.number}/payments`, {
      method: 'POST',
      key: SK,
      body: JSON.stringify({ id: 'pay_2', status: 'paid', reference: 'ch_retry' }),
    })
    await page.reload()
    await page.getByRole('heading', { name: 'Invoice history' }).waitFor()
    expect(await page.locator('.notice.critical').count()).toBe(0)
    await expect.poll(() => page.locator('#invoices').textContent()).toContain('Paid')
    await dash.reload()
    await dash.waitForSelector('body[data-ready="true"]')
    expect(await dash.locator('#notices .notice.critical').count()).toBe(0)
    await dash.close()

    // Cancel at the period's end, then undo it.
    await page.getByRole('button', { name: 'Cancel subscription' }).click()
    await dialog.getByText(/Your subscription will end on/).waitFor()
    await dialog.getByRole('button', { name: 'Cancel subscription' }).click()
    await page
      .getByText(/^Cancelled: your subscription ends on/)
      .first()
      .waitFor()
    expect((await account()).subscription.cancelledAt).toBeDefined()
    await page.locator('.notice', { hasText: 'Cancellation scheduled' }).waitFor()
    if (SCREENSHOTS) await page.screenshot({ path: join(ROOT, 'docs/portal.png'), fullPage: true })
    await page.getByRole('button', { name: 'Renew subscription' }).click()
    await dialog.getByRole('button', { name: 'Renew subscription' }).click()
    await page.getByText('Your subscription renews as before.').first().waitFor()
    expect((await account()).subscription.cancelledAt).toBeUndefined()

    // Every change reached the vendor as a signed webhook of its type.
    const expected = [
      'subscription.changed',
      'subscription.change_scheduled',
      'credits.purchased',
      'emails.purchased',
      'credits.transferred',
      'billing_details.updated',
      'subscription.cancellation_scheduled',
      'subscription.cancellation_undone',
    ]
    await expect.poll(() => expected.filter((t) => !receiver.got.some((g) => g.type === t && g.verified)), { timeout: 20_000 }).toEqual([])
    // The double click bought one pack: two purchases in all (that one and the one after the invoice information).
    expect(new Set(receiver.got.filter((g) => g.type === 'credits.purchased').map((g) => g.id)).size).toBe(2)
    await expectAccessible(page, 'the portal after every action')
    expect(errors).toEqual([])
    await context.close()
  }, 180_000)

  it('does a full pass with the keyboard alone on a 390 px phone', async () => {
    const { context, page, errors } = await open({ width: 390, height: 844 })
    await expectAccessible(page, 'the portal at 390 px')
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null
        const label = el?.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null
        return (el?.getAttribute('aria-label') ?? label ?? el?.textContent ?? '').trim()
      })
    /** Tabs until the focused control's name matches; fails after 80 presses. */
    const tabTo = async (name: RegExp) => {
      for (let i = 0; i < 80; i++) {
        if (name.test(await focused())) return
        await page.keyboard.press('Tab')
      }
      throw new Error(`no focusable control named ${name} (last: ${await focused()})`)
    }
    const dialog = page.getByRole('dialog')

    // Change plan: more seats, previewed, confirmed.
    const changes = (await account()).subscription.changes?.length ?? 0
    await tabTo(/^Change plan$/)
    await page.keyboard.press('Enter')
    await dialog.waitFor()
    await tabTo(/^Seats$/)
    await page.keyboard.press('Control+A')
    await page.keyboard.type('6')
    await tabTo(/^Review change$/)
    await page.keyboard.press('Enter')
    await dialog.getByText(/From .*: €/).waitFor()
    await tabTo(/^Confirm/)
    await page.keyboard.press('Enter')
    // The page's own word that it was done (the notice of the change scheduled earlier says "Change scheduled" too).
    await page.locator('#toast', { hasText: /^(Plan changed|Change scheduled for)/ }).waitFor()
    expect((await account()).subscription.changes.length).toBe(changes + 1)
    expect((await account()).subscription.changes.at(-1)).toMatchObject({ seats: 6 })

    // Buy a credit pack.
    const credits = await balance('account')
    await tabTo(/^Buy credits$/)
    await page.keyboard.press('Enter')
    await tabTo(/^Buy pack$/)
    await page.keyboard.press('Enter')
    await page
      .getByText(/credits added/)
      .first()
      .waitFor()
    expect(await balance('account')).toBe(credits + 1000)

    // Send credits to a member.
    const alice = await balance('member:alice')
    await tabTo(/^Send credits to a team member$/)
    await page.keyboard.press('Enter')
    await tabTo(/^Credits$/)
    await page.keyboard.press('Control+A')
    await page.keyboard.type('25')
    await tabTo(/^Review$/)
    await page.keyboard.press('Enter')
    await dialog.getByText('This cannot be undone').waitFor()
    await tabTo(/^Send credits$/)
    await page.keyboard.press('Enter')
    await page
      .getByText(/25 credits sent/)
      .first()
      .waitFor()
    expect(await balance('member:alice')).toBe(alice + 25)

    // Buy an email pack.
    const granted = (await api('/v1/period')).emails.granted
    await tabTo(/^Buy an email pack$/)
    await page.keyboard.press('Enter')
    await tabTo(/^Buy pack$/)
    await page.keyboard.press('Enter')
    await page
      .getByText(/emails added/)
      .first()
      .waitFor()
    expect((await api('/v1/period')).emails.granted).toBe(granted + 5000)

    // Filter the credit log to transfers.
    await tabTo(/^Type$/)
    await page.keyboard.press('End')
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('ArrowUp')
    await tabTo(/^Show$/)
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('.log').textContent()).toContain('Sent to alice')

    // Invoice information.
    await tabTo(/^Company name$/)
    await page.keyboard.press('Control+A')
    await page.keyboard.type('Demo Shop Holding B.V.')
    await tabTo(/^Save$/)
    await page.keyboard.press('Enter')
    await page
      .getByText(/Invoice information saved/)
      .first()
      .waitFor()

    // Cancel, then renew, by keyboard.
    await tabTo(/^Cancel subscription$/)
    await page.keyboard.press('Enter')
    await dialog.getByText(/Your subscription will end on/).waitFor()
    await tabTo(/^Cancel subscription$/)
    await page.keyboard.press('Enter')
    await page
      .getByText(/^Cancelled:/)
      .first()
      .waitFor()
    expect((await account()).subscription.cancelledAt).toBeDefined()
    await expectAccessible(page, 'the portal at 390 px, cancelling')
    if (SCREENSHOTS) await page.screenshot({ path: join(ROOT, 'docs/portal-mobile.png'), fullPage: true })
    await tabTo(/^Renew subscription$/)
    await page.keyboard.press('Enter')
    await tabTo(/^Renew subscription$/)
    await page.keyboard.press('Enter')
    await page.getByText('Your subscription renews as before.').first().waitFor()
    expect((await account()).subscription.cancelledAt).toBeUndefined()

    // An invoice downloads from the keyboard.
    const download = page.waitForEvent('download')
    await tabTo(/as PDF$/)
    await page.keyboard.press('Enter')
    expect((await download).suggestedFilename()).toMatch(/^invoice-demo-\d+\.pdf$/)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    expect(errors).toEqual([])
    await context.close()
  }, 180_000)
})
