/**
 * The repository contract's money part (credit log, open ledger, invoices, email grants, webhook
 * outbox), run by `describeRepository` (./contract.ts) on each engine's database.
 */
import { describe, expect, it } from 'vitest'
import type { Invoice, LedgerEntry, Lot } from '@tally/billing'
import type { CreditBookRow, Engine, LedgerKey, Repository } from './repository.js'
import { T, grant, invoice } from './contract-fixtures.js'

export function describeMoneyContract(current: () => Engine): void {
  const engine: Pick<Engine, 'read' | 'transaction'> = { read: (fn) => current().read(fn), transaction: (fn) => current().transaction(fn) }
  const tx = <R>(fn: (r: Repository) => Promise<R>): Promise<R> => engine.transaction(fn)

  describe('the credit log', () => {
    it('appends in order, skips an entry whose key is stored, and moves its head', async () => {
      expect(await engine.read((r) => r.ledgerHead('acme'))).toBe(0)
      const key = (ref: string, leg: LedgerKey['leg'] = ''): LedgerKey => ({ source: 'grant', ref, leg })
      const h1 = await tx((r) =>
        r.appendLedger('acme', [
          { key: key('g1'), entry: grant('g1') },
          { key: key('g2'), entry: grant('g2') },
        ]),
      )
      const h2 = await tx((r) => r.appendLedger('acme', [{ key: key('g1'), entry: grant('g1', 999) }]))
      expect(h1).toBeGreaterThan(0)
      expect(h2).toBe(h1)
      expect(await engine.read((r) => r.ledger('acme'))).toEqual([grant('g1'), grant('g2')])
      expect(await engine.read((r) => r.ledger('other'))).toEqual([])
    })

    it('keeps keys apart by their columns, whatever characters the client ids hold', async () => {
      const out = (ref: string): LedgerKey => ({ source: 'transfer', ref, leg: 'out' })
      const inn = (ref: string): LedgerKey => ({ source: 'transfer', ref, leg: 'in' })
      await tx((r) =>
        r.appendLedger('acme', [
          { key: out('a'), entry: grant('x1') },
          { key: inn('a'), entry: grant('x2') },
          { key: out('a:in'), entry: grant('x3') },
          { key: inn('a:in'), entry: grant('x4') },
        ]),
      )
      expect((await engine.read((r) => r.ledger('acme'))).map((e) => e.id)).toEqual(['x1', 'x2', 'x3', 'x4'])
    })
  })

  describe('the open ledger', () => {
    const lot = (id: string, remaining: number, more: Partial<Lot> = {}): Lot & { open: boolean } => ({
      lot: id,
      wallet: 'account',
      kind: 'free',
      at: T,
      expiresAt: T + 86_400_000,
      remaining,
      expired: false,
      open: remaining > 0,
      ...more,
    })
    const book = (head: number): CreditBookRow => ({
      head,
      dueThrough: T,
      wallets: ['account', 'member:alice'],
      totals: { granted: 500, purchased: 1000, spent: 3, expired: 0 },
    })

    it('stores the head row and answers it, null before the first', async () => {
      expect(await engine.read((r) => r.creditBook('acme'))).toBeNull()
      await tx((r) => r.saveCreditBook('acme', { ...book(7), dueThrough: null }, []))
      expect(await engine.read((r) => r.creditBook('acme'))).toEqual({ ...book(7), dueThrough: null })
      await tx((r) => r.saveCreditBook('acme', book(9), []))
      expect(await engine.read((r) => r.creditBook('acme'))).toEqual(book(9))
      expect(await engine.read((r) => r.creditBook('other'))).toBeNull()
    })

    it('lists the open lots only, in the order they were first stored, and any lot by id', async () => {
      await tx((r) => r.saveCreditBook('acme', book(1), [lot('grant:0', 500), lot('p1', 1000, { kind: 'purchased', expiresAt: null })]))
      await tx((r) => r.saveCreditBook('acme', book(2), [lot('grant:0', 0, { expired: true }), lot('b', 10), lot('a', 20)]))
      await tx((r) => r.saveCreditBook('other', book(1), [lot('z', 5)]))
      // `grant:0` closed, stored first; `p1` kept its place; `b` and `a` follow in the order given.
      expect(await engine.read((r) => r.openLots('acme'))).toEqual([
        { lot: 'p1', wallet: 'account', kind: 'purchased', at: T, expiresAt: null, remaining: 1000, expired: false },
        { lot: 'b', wallet: 'account', kind: 'free', at: T, expiresAt: T + 86_400_000, remaining: 10, expired: false },
        { lot: 'a', wallet: 'account', kind: 'free', at: T, expiresAt: T + 86_400_000, remaining: 20, expired: false },
      ])
      const byId = await engine.read((r) => r.creditLots('acme', ['grant:0', 'nope']))
      expect(byId).toEqual([{ lot: 'grant:0', wallet: 'account', kind: 'free', at: T, expiresAt: T + 86_400_000, remaining: 0, expired: true }])
      expect(await engine.read((r) => r.creditLots('acme', []))).toEqual([])
    })

    it('finds stored entries by their key columns', async () => {
      await tx((r) =>
        r.appendLedger('acme', [
          { key: { source: 'transfer', ref: 'a', leg: 'out' }, entry: grant('x1') },
          { key: { source: 'transfer', ref: 'a', leg: 'in' }, entry: grant('x2') },
        ]),
      )
      expect(await engine.read((r) => r.ledgerEntries('acme', [{ source: 'transfer', ref: 'a', leg: 'out' }]))).toEqual([grant('x1')])
      expect(await engine.read((r) => r.ledgerEntries('acme', [{ source: 'action', ref: 'a', leg: '' }]))).toEqual([])
      expect(await engine.read((r) => r.ledgerEntries('other', [{ source: 'transfer', ref: 'a', leg: 'in' }]))).toEqual([])
      expect(await engine.read((r) => r.ledgerEntries('acme', []))).toEqual([])
    })

    it('writes nothing of it when the transaction fails', async () => {
      await expect(
        tx(async (r) => {
          await r.saveCreditBook('acme', book(1), [lot('g', 5)])
          throw new Error('boom')
        }),
      ).rejects.toThrow('boom')
      expect(await engine.read((r) => r.creditBook('acme'))).toBeNull()
      expect(await engine.read((r) => r.openLots('acme'))).toEqual([])
    })
  })

  describe('invoices', () => {
    it('gives finalized invoices in number order, all or by key', async () => {
      await tx((r) => r.insertInvoices('acme', [invoice('recurring:1', 2), invoice('recurring:0', 1)], T))
      expect((await engine.read((r) => r.invoices('acme'))).map((i) => i.key)).toEqual(['recurring:0', 'recurring:1'])
      expect((await engine.read((r) => r.invoices('acme', ['recurring:1', 'recurring:7']))).map((i) => i.number)).toEqual([2])
      expect(await engine.read((r) => r.invoices('other'))).toEqual([])
    })

    it('answers the highest invoice number of an account, 0 before its first', async () => {
      expect(await engine.read((r) => r.lastInvoiceNumber('acme'))).toBe(0)
      await tx((r) => r.insertInvoices('acme', [invoice('recurring:1', 2), invoice('recurring:0', 1)], T))
      await tx((r) => r.insertInvoices('other', [invoice('recurring:0', 7)], T))
      expect(await engine.read((r) => r.lastInvoiceNumber('acme'))).toBe(2)
      expect(await engine.read((r) => r.lastInvoiceNumber('other'))).toBe(7)
    })

    it('refuses a second invoice with a stored key or number', async () => {
      await tx((r) => r.insertInvoices('acme', [invoice('recurring:0', 1)], T))
      await expect(tx((r) => r.insertInvoices('acme', [invoice('recurring:0', 2)], T))).rejects.toThrow()
      await expect(tx((r) => r.insertInvoices('acme', [invoice('recurring:1', 1)], T))).rejects.toThrow()
      expect(await engine.read((r) => r.invoices('acme'))).toHaveLength(1)
    })
  })

  describe('email grants', () => {
    it('stores a grant once per id, answers the stored one, and reads grants by month range, per account', async () => {
      const g = { id: 'g1', month: '2026-07-12', emails: 5000, note: 'launch', grantedAt: T, pack: null, price: null, currency: null }
      expect(await tx((r) => r.insertEmailGrant('acme', g))).toEqual({ grant: g, created: true })
      expect(await tx((r) => r.insertEmailGrant('acme', { ...g, emails: 1, note: null }))).toEqual({ grant: g, created: false })
      const bought = { ...g, id: 'g2', month: '2026-08-12', note: null, pack: 'big', price: 1500, currency: 'EUR' }
      await tx((r) => r.insertEmailGrant('acme', bought))
      await tx((r) => r.insertEmailGrant('other', { ...g, id: 'g3' }))
      expect((await engine.read((r) => r.emailGrants('acme', '2026-07-01', '2026-08-12'))).map((x) => x.id)).toEqual(['g1'])
      expect(await engine.read((r) => r.emailGrants('acme', '', '9999-12-31'))).toEqual([g, bought])
    })
  })

  describe('what billing reads', () => {
    it('gives every billing row of one account at once, as the reads one by one give them', async () => {
      expect(await engine.read((r) => r.billingReads('acme'))).toEqual({
        page: [],
        server: [],
        ledger: [],
        invoices: [],
        grants: [],
        details: [],
        reading: null,
      })
      const key = (ref: string): LedgerKey => ({ source: 'grant', ref, leg: '' })
      const g = { id: 'g1', month: '2026-07-12', emails: 5000, note: 'launch', grantedAt: T, pack: null, price: null, currency: null }
      for (const account of ['acme', 'other']) {
        await tx(async (r) => {
          await r.addRollups(account, [
            { day: '2026-07-20', container: 'ctr', kind: 'campaign', subject: 'cmp', units: 3 },
            { day: '2026-07-20', container: 'ctr', kind: 'advisor', subject: 'adv', units: 2 },
            { day: '2026-07-19', container: 'ctr', kind: 'bot', subject: 'bot', units: 1 },
            { day: '2026-07-19', container: 'ctr', kind: 'suspicious', subject: 'campaign:cmp', units: 9 },
          ])
          await r.addUsageDaily(account, '2026-07-21', { alerts: 1, emails: 4, contacts: 800 })
          await r.addUsageDaily(account, '2026-07-18', { alerts: 2, emails: 0, contacts: null })
          await r.appendLedger(account, [
            { key: key('b'), entry: grant('b') },
            { key: key('a'), entry: grant('a') },
          ])
          await r.insertInvoices(account, [invoice('recurring:1', 2), invoice('recurring:0', 1)], T)
          await r.insertEmailGrant(account, { ...g, id: 'g2', grantedAt: T + 1, pack: 'big', price: 1500, currency: 'EUR' })
          await r.insertEmailGrant(account, g)
          await r.insertFact(account, { kind: 'billing_details', id: 'd2', at: T + 5, body: { company: 'Acme BV', n: [1, { x: null }] } })
          await r.insertFact(account, { kind: 'billing_details', id: 'd1', at: T, body: { company: 'Acme' } })
          await r.insertFact(account, { kind: 'payment', id: 'p1', at: T, body: { status: 'paid' } })
        })
      }
      await tx((r) => r.addUsageDaily('other', '2026-07-22', { alerts: 5, emails: 5, contacts: 5 }))
      const one = await engine.read(async (r) => ({
        page: await r.pageDaily('acme'),
        server: await r.usageDaily('acme'),
        ledger: await r.ledger('acme'),
        invoices: await r.invoices('acme'),
        grants: await r.emailGrants('acme', '', '9999-12-31'),
        details: await r.facts('acme', 'billing_details'),
        // Without a window there is nothing before it.
        reading: null,
      }))
      expect(one.details.map((d) => d.id)).toEqual(['d1', 'd2'])
      expect(one.page).toHaveLength(2)
      expect(one.server).toEqual([
        { day: '2026-07-18', alerts: 2, emails: 0 },
        { day: '2026-07-21', alerts: 1, emails: 4, contacts: 800 },
      ])
      expect(one.grants.map((x) => x.id)).toEqual(['g1', 'g2'])
      expect(await engine.read((r) => r.billingReads('acme'))).toStrictEqual(one)
    })

    it('reads a window: rows from its day, purchases from its instant, invoices from its first one and those it names', async () => {
      const DAY = 86_400_000
      const purchase = (id: string, at: number): LedgerEntry => ({
        id,
        type: 'purchase',
        wallet: 'account',
        at,
        credits: 1000,
        lot: id,
        pack: 'small',
        price: 1000,
        currency: 'EUR',
      })
      const numbered = (key: string, number: number, kind: Invoice['kind'] = 'recurring'): Invoice => ({ ...invoice(key, number), kind })
      for (const account of ['acme', 'other']) {
        await tx(async (r) => {
          for (const day of ['2026-07-10', '2026-07-19', '2026-07-20', '2026-07-25']) {
            await r.addRollups(account, [{ day, container: 'ctr', kind: 'campaign', subject: 'cmp', units: 1 }])
          }
          await r.addUsageDaily(account, '2026-07-10', { alerts: 1, emails: 0, contacts: 700 })
          await r.addUsageDaily(account, '2026-07-18', { alerts: 1, emails: 0, contacts: 900 })
          await r.addUsageDaily(account, '2026-07-19', { alerts: 1, emails: 0, contacts: null })
          await r.addUsageDaily(account, '2026-07-20', { alerts: 1, emails: 0, contacts: 1200 })
          await r.appendLedger(account, [
            { key: { source: 'purchase', ref: 'p1', leg: '' }, entry: purchase('p1', T - DAY) },
            { key: { source: 'grant', ref: 'g', leg: '' }, entry: grant('g') },
            { key: { source: 'purchase', ref: 'p2', leg: '' }, entry: purchase('p2', T) },
          ])
          await r.insertInvoices(
            account,
            [
              numbered('recurring:0', 1),
              numbered('recurring:1', 2),
              numbered('credits:p0', 3, 'credits'),
              numbered('recurring:2', 4),
              numbered('credits:p2', 5, 'credits'),
              numbered('recurring:3', 6),
            ],
            T,
          )
          await r.insertEmailGrant(account, {
            id: 'e1',
            month: '2026-06-20',
            emails: 10,
            note: null,
            grantedAt: T - 30 * DAY,
            pack: null,
            price: null,
            currency: null,
          })
          await r.insertEmailGrant(account, { id: 'e2', month: '2026-07-20', emails: 10, note: null, grantedAt: T, pack: null, price: null, currency: null })
        })
      }
      const window = { fromDay: '2026-07-20', from: T, firstKey: 'recurring:2', keys: ['recurring:0', 'recurring:1'] }
      const read = await engine.read((r) => r.billingReads('acme', window))
      expect(read.page.map((d) => d.day)).toEqual(['2026-07-20', '2026-07-25'])
      expect(read.server).toEqual([{ day: '2026-07-20', alerts: 1, emails: 0, contacts: 1200 }])
      expect(read.reading).toEqual({ day: '2026-07-18', contacts: 900 })
      expect(read.ledger).toEqual([purchase('p2', T)])
      expect(read.invoices.map((i) => i.key)).toEqual(['recurring:0', 'recurring:1', 'recurring:2', 'credits:p2', 'recurring:3'])
      expect(read.grants.map((g) => g.id)).toEqual(['e2'])
      // A first invoice not stored yet: every invoice.
      const all = await engine.read((r) => r.billingReads('acme', { ...window, firstKey: 'recurring:9', keys: [] }))
      expect(all.invoices.map((i) => i.number)).toEqual([1, 2, 3, 4, 5, 6])
      expect(await engine.read((r) => r.billingReads('acme', { ...window, fromDay: '2026-07-10' }))).toMatchObject({ reading: null })
    })

    it('names the highest numbered recurring invoice, late ones included', async () => {
      expect(await engine.read((r) => r.lastRecurringKey('acme'))).toBeNull()
      await tx((r) => r.insertInvoices('acme', [invoice('recurring:0', 1), { ...invoice('credits:a', 2), kind: 'credits' }], T))
      expect(await engine.read((r) => r.lastRecurringKey('acme'))).toBe('recurring:0')
      await tx((r) =>
        r.insertInvoices('acme', [invoice('recurring:1', 3), invoice('recurring:1:late:1', 4), { ...invoice('credits:b', 5), kind: 'credits' }], T),
      )
      expect(await engine.read((r) => r.lastRecurringKey('acme'))).toBe('recurring:1:late:1')
      expect(await tx((r) => r.lockForBilling('acme'))).toBe('recurring:1:late:1')
      expect(await tx((r) => r.lockForBilling('other'))).toBeNull()
      expect(await engine.read((r) => r.lastRecurringKey('other'))).toBeNull()
    })
  })

  describe('the webhook outbox', () => {
    const endpoint = (id: string) => ({ id, url: `https://hooks.test/${id}`, secret: `whsec_${id}`, createdAt: T })
    const event = (key: string, id = `evt_${key}`) => ({ key, id, type: 'credits.purchased', created: T, data: { key } })
    const heads = async (now: number) => (await engine.read((r) => r.dueDeliveries(now, 10))).map((d) => `${d.account}:${d.endpoint}:${d.event.id}`).sort()

    it("numbers an account's events in order, writes a fact once, and gives each endpoint a pending delivery", async () => {
      await tx((r) => r.insertWebhookEndpoint('acme', endpoint('we_a')))
      await tx((r) => r.insertWebhookEndpoint('acme', endpoint('we_b')))
      expect(await tx((r) => r.insertOutboxEvent('acme', event('k1')))).toBe(true)
      expect(await tx((r) => r.insertOutboxEvent('acme', event('k1', 'evt_other')))).toBe(false)
      expect(await tx((r) => r.insertOutboxEvent('acme', event('k2')))).toBe(true)
      expect(await tx((r) => r.insertOutboxEvent('other', event('k1')))).toBe(true)
      const log = await engine.read((r) => r.deliveries('acme', 10))
      expect(log.map((d) => [d.seq, d.endpoint, d.status, d.event.id])).toEqual([
        [2, 'we_a', 'pending', 'evt_k2'],
        [2, 'we_b', 'pending', 'evt_k2'],
        [1, 'we_a', 'pending', 'evt_k1'],
        [1, 'we_b', 'pending', 'evt_k1'],
      ])
      expect(log[0]?.event).toEqual({ id: 'evt_k2', type: 'credits.purchased', created: T, data: { key: 'k2' } })
      expect((await engine.read((r) => r.deliveries('acme', 10, 2))).map((d) => d.seq)).toEqual([1, 1])
      // The other account has no endpoint: its event waits in the outbox with no delivery.
      expect(await engine.read((r) => r.deliveries('other', 10))).toEqual([])
    })

    it('hands out only the oldest pending delivery of each endpoint, once it is due', async () => {
      await tx((r) => r.insertWebhookEndpoint('acme', endpoint('we_a')))
      await tx(async (r) => {
        await r.insertOutboxEvent('acme', event('k1'))
        await r.insertOutboxEvent('acme', event('k2'))
      })
      expect(await heads(T - 1)).toEqual([])
      expect(await heads(T)).toEqual(['acme:we_a:evt_k1'])
      const u = { status: 'pending' as const, attempts: 1, nextAt: T + 1000, lastAt: T, lastStatus: 500, lastError: 'HTTP 500' }
      await tx((r) => r.updateDelivery('acme', 1, 'we_a', u))
      // The head waits for its retry, and the event after it waits behind it.
      expect(await heads(T + 999)).toEqual([])
      expect(await heads(T + 1000)).toEqual(['acme:we_a:evt_k1'])
      await tx((r) => r.updateDelivery('acme', 1, 'we_a', { ...u, status: 'delivered', attempts: 2, lastStatus: 200, lastError: null }))
      expect(await heads(T + 1000)).toEqual(['acme:we_a:evt_k2'])
      expect((await engine.read((r) => r.deliveries('acme', 10))).at(-1)).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200 })
    })

    it('redelivers an event to the endpoints of now, and drops what an endpoint removed was still to get', async () => {
      await tx((r) => r.insertWebhookEndpoint('acme', endpoint('we_a')))
      await tx((r) => r.insertOutboxEvent('acme', event('k1')))
      await tx((r) => r.updateDelivery('acme', 1, 'we_a', { status: 'failed', attempts: 9, nextAt: T, lastAt: T, lastStatus: null, lastError: 'x' }))
      await tx((r) => r.insertWebhookEndpoint('acme', endpoint('we_b')))
      expect(await tx((r) => r.redeliver('acme', 'evt_k1', T + 5))).toBe(2)
      expect(await tx((r) => r.redeliver('acme', 'evt_none', T + 5))).toBeNull()
      expect(await heads(T + 5)).toEqual(['acme:we_a:evt_k1', 'acme:we_b:evt_k1'])
      expect((await engine.read((r) => r.webhookEndpoints('acme'))).map((e) => e.secret)).toEqual(['whsec_we_a', 'whsec_we_b'])
      expect(await tx((r) => r.deleteWebhookEndpoint('acme', 'we_b'))).toBe(true)
      expect(await tx((r) => r.deleteWebhookEndpoint('acme', 'we_b'))).toBe(false)
      expect(await heads(T + 5)).toEqual(['acme:we_a:evt_k1'])
    })
  })
}
