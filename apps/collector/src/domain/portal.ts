/**
 * The billing portal's rules (docs/portal.md), with no I/O: session tokens and their CSRF token,
 * the `frame-ancestors` of an account, what a change asks for checked against the vendor's policy,
 * and the notices an account's state calls for. The routes (../routes/portal.ts) apply them.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { portalPolicyOf, type AccountConfig, type Cycle, type PortalPolicy } from '@tally/protocol'
import { localDate, periodAt, subscriptionEnd, termsAt, type BillingAccount, type SubscriptionChange } from '@tally/billing'
import { normalizeHost } from './origin.js'

/** A portal session lasts this long from the moment the vendor asked for it. */
export const PORTAL_SESSION_MS = 60 * 60 * 1000

/** `~` is in no account id (docs/configuration.md: `[A-Za-z0-9._:-]`) nor in base64url: it splits a token. */
const SEP = '~'

/** A new secret token for `account`: the account in clear (to find the row), 256 random bits. */
export const newToken = (account: string): string => `${account}${SEP}${randomBytes(32).toString('base64url')}`

/** The account a token names, or null for anything that is not a token. */
export function tokenAccount(token: string | undefined): string | null {
  if (!token || token.length > 200) return null
  const i = token.indexOf(SEP)
  if (i <= 0 || !/^[A-Za-z0-9_-]{43}$/.test(token.slice(i + 1))) return null
  return token.slice(0, i)
}

/** What the database keeps of a token: its digest, never the token. */
export const digest = (token: string): string => createHash('sha256').update(token).digest('base64url')

/** The CSRF token of a session: derived from the cookie, which a cross-site page can neither read nor guess. */
export const csrfOf = (cookie: string): string => createHash('sha256').update(`csrf\0${cookie}`).digest('base64url')

export function csrfMatches(cookie: string, given: string | undefined): boolean {
  if (!given) return false
  const a = Buffer.from(csrfOf(cookie))
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The `frame-ancestors` sources of an account: the hosts of its containers' domains (any port, as
 * the origin check ignores ports; `example.com` also allows `www.example.com`, as it does there),
 * `'self'`, and nothing else; `'none'` besides `'self'` when it has no container.
 */
export function frameAncestors(account: AccountConfig): string {
  const hosts = new Set<string>()
  for (const c of Object.values(account.containers)) {
    for (const d of c.domains) {
      const wild = d.startsWith('*.')
      let host: string
      try {
        host = normalizeHost(wild ? d.slice(2) : d)
      } catch {
        continue
      }
      // Only plain host names reach the header: nothing that could end the directive.
      if (!/^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/.test(host)) continue
      if (wild) hosts.add(`*.${host}:*`)
      else {
        hosts.add(`${host}:*`)
        if (!/^[\d.]+$/.test(host) && host !== 'localhost' && !host.startsWith('[')) hosts.add(`www.${host}:*`)
      }
    }
  }
  return ["'self'", ...[...hosts].sort()].join(' ')
}

/** What a change asks for: the whole new value of each field it names. */
export interface ChangeAsk {
  plan?: string | undefined
  seats?: number | undefined
  products?: string[] | undefined
  cycle?: Cycle | undefined
}

/**
 * The change dated today that `ask` makes, checked against the policy of the plan in force; the
 * fields equal to what is in force are left out. Throws a message for a refusal.
 */
export function portalChange(account: BillingAccount, ask: ChangeAsk, at: number): { change: SubscriptionChange; policy: PortalPolicy } | string {
  const now = termsAt(account, at)
  const period = periodAt(account.subscription, account.timezone, at)
  if (!now || !period) return 'the subscription has not started or has ended'
  const policy = portalPolicyOf(now.terms.plan)
  const change: SubscriptionChange = { at: localDate(at, account.timezone) }
  if (ask.plan !== undefined && ask.plan !== now.terms.planId) {
    if (!policy.plans.includes(ask.plan) || !Object.hasOwn(account.plans, ask.plan)) return `plan: this subscription cannot switch to "${ask.plan}" here`
    change.plan = ask.plan
  }
  const plan = change.plan ? account.plans[change.plan]! : now.terms.plan
  if (ask.seats !== undefined && ask.seats !== now.terms.seats) {
    if (!policy.seats) return 'seats: the number of seats cannot be changed here'
    if (ask.seats < policy.seats.min || ask.seats > policy.seats.max) return `seats: choose from ${policy.seats.min} to ${policy.seats.max}`
    change.seats = ask.seats
  }
  if (ask.products !== undefined) {
    const wanted = [...new Set(ask.products)].sort()
    const unknown = wanted.find((p) => !Object.hasOwn(plan.products, p))
    if (unknown !== undefined) return `products: the plan offers no product "${unknown}"`
    const current = [...now.terms.products].sort()
    if (wanted.join('\n') !== current.join('\n')) {
      if (!policy.products) return 'products: products cannot be changed here'
      change.products = wanted
    }
  }
  // A new plan that does not offer a product chosen now: the products must be given again.
  if (change.plan && change.products === undefined) {
    const kept = now.terms.products.filter((p) => Object.hasOwn(plan.products, p))
    if (kept.length !== now.terms.products.length) change.products = kept
  }
  if (ask.cycle !== undefined && ask.cycle !== period.cycle) {
    if (!policy.cycles.includes(ask.cycle)) return `cycle: this subscription cannot switch to ${ask.cycle} billing here`
    change.cycle = ask.cycle
  }
  if (Object.keys(change).length === 1) return 'nothing to change: that is the subscription in force'
  return { change, policy }
}

export type NoticeKind = 'payment_failed' | 'change_scheduled' | 'cancellation_scheduled' | 'term_ending' | 'credits_low' | 'email_quota_reached'

export interface Notice {
  kind: NoticeKind
  severity: 'critical' | 'warning' | 'info'
  /** What it says, in plain words; amounts are formatted by the page. */
  message: string
  /** The local day it is about, when it has one. */
  date?: string | undefined
  /** The invoice it is about (payment failed). */
  invoice?: number | undefined
}

export interface NoticeInput {
  billing: BillingAccount
  at: number
  /** Latest reported payment status per invoice number. */
  payments: ReadonlyMap<number, { status: string }>
  /** The balance of the wallet the session sees, and the threshold of the plan in force. */
  balance: number | null
  emails: { quota: number; left: number } | null
  planName: (id: string) => string
}

/** Notices, most urgent first. */
export function notices(input: NoticeInput): Notice[] {
  const { billing, at } = input
  const out: Notice[] = []
  for (const [number, p] of [...input.payments].sort((a, b) => a[0] - b[0])) {
    if (p.status === 'failed') {
      out.push({
        kind: 'payment_failed',
        severity: 'critical',
        invoice: number,
        message: `The payment of invoice ${number} failed. Update your payment details with us so it can be collected.`,
      })
    }
  }
  const sub = billing.subscription
  const period = periodAt(sub, billing.timezone, at)
  const now = termsAt(billing, at)
  if (period && now) {
    if (sub.cancelledAt !== undefined) {
      const end = subscriptionEnd(sub, billing.timezone)
      const endsOn = end === null ? period.endDate : localDate(end, billing.timezone)
      out.push({
        kind: 'cancellation_scheduled',
        severity: 'warning',
        date: endsOn,
        message: `Your subscription is cancelled and ends on ${endsOn}. You will not be billed again but for the last usage.`,
      })
    } else {
      const next = termsAt(billing, period.end)
      if (next) {
        const moved = next.terms.planId !== now.terms.planId || next.terms.seats !== now.terms.seats || next.terms.products.join() !== now.terms.products.join()
        if (moved) {
          out.push({
            kind: 'change_scheduled',
            severity: 'info',
            date: period.endDate,
            message: `From ${period.endDate}: ${input.planName(next.terms.planId)}, ${next.terms.seats} seat${next.terms.seats === 1 ? '' : 's'}${next.terms.products.length ? `, ${next.terms.products.join(', ')}` : ''}.`,
          })
        }
        if (period.cycle !== 'monthly' && next.period.cycle === 'monthly' && period.end - at <= 31 * 86_400_000) {
          out.push({
            kind: 'term_ending',
            severity: 'info',
            date: period.endDate,
            message: `Your ${period.cycle} term ends on ${period.endDate}; from then on the subscription is billed monthly unless you choose a new term.`,
          })
        }
      }
    }
    const threshold = now.terms.plan.creditsLowThreshold
    if (threshold !== undefined && input.balance !== null && input.balance < threshold) {
      out.push({ kind: 'credits_low', severity: 'warning', message: `Credits are low: ${input.balance} left.` })
    }
  }
  if (input.emails && input.emails.quota > 0 && input.emails.left === 0) {
    out.push({
      kind: 'email_quota_reached',
      severity: 'warning',
      message: "This month's email quota is used up: further sends are refused until the next month or an email pack.",
    })
  }
  return out
}
