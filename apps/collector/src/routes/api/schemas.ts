/**
 * The request bodies and answers of the beacon, usage, credit, report, refusal, admin and
 * operations routes, in zod: the document's `#/components/schemas/…` (each `.meta({ id })`).
 * The routes validate with the request schemas; the answers are what the contract tests hold
 * live answers to.
 */
import { z } from 'zod'
import {
  AccountSchema,
  ContainerSchema,
  EVENT_CODES,
  EnvelopeSchema,
  MAX_BODY_BYTES,
  MAX_EVENTS,
  USAGE_CODES,
  UsageEventSchema,
  IdSchema,
} from '@tally/protocol'
import { GROUPINGS, METERS } from '../../services/usage-report.js'
import { date, id, instant, int, text, zone } from './define.js'

export const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' })
export const Ready = z.object({ status: z.literal('ready') }).meta({ id: 'Ready' })
export const OpenApiDocument = z
  .object({
    openapi: z.string().regex(/^3\.1\./),
    info: z.object({}).loose(),
    servers: z.array(z.object({ url: text, description: text.optional() })),
    tags: z.array(z.unknown()),
    paths: z.object({}).loose(),
    components: z.object({}).loose(),
  })
  .meta({ id: 'OpenApiDocument', description: 'This document.' })

// --- Beacons (docs/protocol.md §3): the protocol's own schemas ---

export const Batch = EnvelopeSchema.meta({
  id: 'Batch',
  description: `At most ${MAX_BODY_BYTES} bytes. Sent as text/plain (sendBeacon, no preflight) or application/json. \`sentAt\` is the client clock, ms since the epoch: it corrects the events' \`ts\` for skew.`,
})
export const BatchResult = z
  .object({ accepted: int, duplicates: int, rejected: z.array(z.object({ index: int, code: z.enum(EVENT_CODES) })) })
  .meta({ id: 'BatchResult' })

// --- Server usage and credits (docs/protocol.md §4) ---

/** The envelope of `POST /v1/usage`: checked whole (`invalid_batch`); each event is checked alone by the protocol's validator. */
export const UsageEnvelope = z.object({
  events: z.array(z.unknown(), 'expected an array').min(1, `expected 1 to ${MAX_EVENTS} events`).max(MAX_EVENTS, `expected 1 to ${MAX_EVENTS} events`),
})
export const UsageEvents = z.object({ events: z.array(UsageEventSchema).min(1).max(MAX_EVENTS) }).meta({ id: 'UsageEvents' })
export const UsageResults = z
  .object({
    results: z.array(
      z.object({
        id: z.string().meta({ description: "The event's id (empty when the event had none)." }),
        status: z.enum(['accepted', 'duplicate', 'rejected']),
        code: z.enum(USAGE_CODES).optional(),
        credits: z
          .object({ spent: int, balance: int })
          .optional()
          .meta({ description: "Actions: the credits the event spent and the wallet's balance after it." }),
      }),
    ),
  })
  .meta({ id: 'UsageResults' })

const requestId = IdSchema.meta({ description: 'Idempotency key: the same id again answers `duplicate` and changes nothing more.' })
export const CreditPurchase = z.object({ pack: z.string('expected the name of a credit pack'), id: requestId }).meta({ id: 'CreditPurchase' })
export const CreditPurchaseResult = z
  .object({
    id: text,
    status: z.enum(['accepted', 'duplicate']),
    pack: text,
    credits: int,
    balance: int.meta({ description: "The account wallet's balance after the purchase." }),
    invoice: z.string().meta({ description: "Key of the pack's invoice (`credits:purchase:<id>`), finalized by the next billing run." }),
  })
  .meta({ id: 'CreditPurchaseResult' })
export const CreditTransfer = z
  .object({
    to: z.string('expected a member of the account'),
    credits: z
      .number('expected a positive integer')
      .int('expected a positive integer')
      .min(1, 'expected a positive integer')
      .max(Number.MAX_SAFE_INTEGER, 'expected a positive integer'),
    id: requestId,
  })
  .meta({ id: 'CreditTransfer' })
export const CreditTransferResult = z
  .object({
    id: text,
    status: z.enum(['accepted', 'duplicate', 'rejected']),
    code: z.enum(['insufficient_credits']).optional().meta({ description: 'Why a transfer was rejected; nothing moved.' }),
    to: text,
    credits: int,
    balance: int.meta({ description: "The account wallet's balance." }),
    moved: z
      .object({ purchased: int, free: int })
      .optional()
      .meta({ description: 'On an accepted or duplicate transfer: the credits moved by kind of lot, purchased first.' }),
  })
  .meta({ id: 'CreditTransferResult' })
export const EmailPurchase = z.object({ pack: z.string('expected the name of an email pack'), id: requestId }).meta({ id: 'EmailPurchase' })
export const EmailPurchaseResult = z
  .object({
    id: text,
    status: z.enum(['accepted', 'duplicate']),
    pack: text,
    emails: int,
    month: date.meta({ description: 'First local day of the month of the anchor calendar the pack adds to.' }),
    invoice: z.string().meta({ description: "Key of the pack's invoice (`emails:purchase:<id>`), finalized by the next billing run." }),
  })
  .meta({ id: 'EmailPurchaseResult' })

/** The most one grant can add: a typo of a few zeros is refused rather than granted. */
export const MAX_EMAIL_GRANT = 10_000_000
const grantRule = `expected a whole number from 1 to ${MAX_EMAIL_GRANT}`
export const EmailGrant = z
  .object({
    emails: z
      .number(grantRule)
      .int(grantRule)
      .min(1, grantRule)
      .max(MAX_EMAIL_GRANT, grantRule)
      .meta({ description: 'Emails added to the quota of the current month.' }),
    id: requestId,
    note: z
      .string('expected text of at most 500 characters')
      .max(500, 'expected text of at most 500 characters')
      .optional()
      .meta({ description: 'Why, for the log.' }),
  })
  .meta({ id: 'EmailGrant' })
export const EmailGrantResult = z
  .object({
    account: text,
    id: text,
    status: z.enum(['accepted', 'duplicate']),
    emails: int,
    month: date.meta({ description: 'First local day of the month of the anchor calendar the grant adds to.' }),
    note: text.nullable(),
    grantedAt: instant,
  })
  .meta({ id: 'EmailGrantResult' })

// --- Reads (docs/protocol.md §5) ---

export const UsageReport = z
  .object({
    account: text,
    timezone: zone,
    from: date,
    to: date,
    groupBy: z.array(z.enum(GROUPINGS)),
    filters: z
      .object({ container: id.optional(), campaign: id.optional(), advisor: id.optional(), bot: id.optional() })
      .meta({ description: 'The filters applied.' }),
    names: z
      .object({ campaign: z.record(z.string(), text), advisor: z.record(z.string(), text), bot: z.record(z.string(), text) })
      .meta({ description: 'Display names from the configuration of the campaigns, advisors and bots of the rows that have one (JSON only).' }),
    rows: z.array(
      z
        .object({
          ...Object.fromEntries(GROUPINGS.map((g) => [g, z.string().nullable().optional()])),
          containerName: text.optional(),
          ...Object.fromEntries(METERS.map((m) => [m, int])),
        })
        .meta({
          description:
            'One row per combination of the grouping keys, only the keys of `groupBy`. A key is null where the usage has ' +
            'none (an impression has no advisor; alerts and credits have no container). `containerName` comes with `container` ' +
            '(empty where the container is null).',
        }),
    ),
  })
  .meta({ id: 'UsageReport' })

export const Rejections = z
  .object({
    account: text,
    timezone: zone,
    since: instant.meta({ description: 'Where the rows start: `since` as given (a date is local midnight in `timezone`), or 7 days before now.' }),
    rejections: z.array(
      z.object({
        container: text,
        reason: text,
        origin: z
          .string()
          .meta({ description: "The page's host, empty when the request named none; `*` for the refusals past the day's budget of distinct keys." }),
        subject: z.string().meta({ description: 'The campaign, advisor or bot a refused event named; empty for a whole request.' }),
        count: int,
        firstSeen: instant,
        lastSeen: instant,
      }),
    ),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` (with the same `since` and `sort`) for the next page; null on the last.' }),
  })
  .meta({ id: 'Rejections' })

// --- Admin (docs/protocol.md §6, §7): the configuration's own schemas ---

export const AccountInput = AccountSchema.meta({
  id: 'AccountInput',
  description: 'An account of the configuration file (docs/protocol.md §7). Without `containers` the account keeps its containers.',
})
export const Account = AccountSchema.meta({ id: 'Account' })
export const AccountApplied = z
  .object({
    id: text,
    account: Account,
    version: int.optional().meta({ description: "The account's version this is (reads and writes; absent before the database holds one)." }),
    effectiveAt: instant.optional().meta({ description: 'When that version takes effect (`?at=` of the write, else when it was written).' }),
  })
  .meta({ id: 'AccountApplied' })
export const AccountHistory = z
  .object({
    id: text,
    versions: z
      .array(
        z.object({
          version: int,
          createdAt: instant.meta({ description: 'When it was written.' }),
          actor: z
            .string()
            .meta({
              description: '`admin` (the admin API), `config file` (the file at a start or `tally config apply`), `upgrade` (changes stored before versions).',
            }),
          effectiveAt: instant.meta({ description: 'When it takes effect; the version before is in force, and billed, until then.' }),
          before: z.unknown().meta({ description: 'The whole account before this version; null when it was new.' }),
          account: z.unknown().meta({ description: 'The whole account this version holds; null when it removed the account.' }),
        }),
      )
      .meta({ description: 'Newest first.' }),
    next: int.nullable().meta({ description: 'The `before` of the next page; null on the last.' }),
  })
  .meta({ id: 'AccountHistory' })
// One object, not an `allOf`: the container refuses keys it does not know (docs/configuration.md), so `account` is one of its properties here.
export const ContainerInput = ContainerSchema.extend({ account: z.string().optional().meta({ description: 'The owner; required for a new container.' }) }).meta(
  { id: 'ContainerInput', description: 'A container of the configuration file (docs/protocol.md §7).' },
)
export const Container = ContainerSchema.meta({ id: 'Container' })
export const ContainerApplied = z
  .object({
    id: text,
    account: text,
    container: Container,
    version: int.optional().meta({ description: 'The version of the owning account a write made (containers are versioned inside their account).' }),
    effectiveAt: instant.optional().meta({ description: 'When that version takes effect.' }),
  })
  .meta({ id: 'ContainerApplied' })
export const AccountList = z
  .object({
    accounts: z.array(
      z.object({
        id: text,
        name: text,
        active: z.boolean(),
        plan: text,
        timezone: z.string().meta({ description: 'IANA time zone of the account: its days, periods and the times it is shown in.' }),
        containers: z.array(text).meta({ description: 'Container ids.' }),
      }),
    ),
  })
  .meta({ id: 'AccountList' })
const patchRule = 'expected a JSON object (a merge patch, RFC 7396)'
export const AccountPatch = z
  .record(z.string(), z.unknown(), patchRule)
  .meta({
    id: 'AccountPatch',
    description:
      'A JSON merge patch (RFC 7396) of an account: a field left out is kept, `null` removes an optional field, objects merge, arrays and other values replace. The result must be a valid account.',
  })
export const ContainerPatch = z
  .record(z.string(), z.unknown(), patchRule)
  .meta({
    id: 'ContainerPatch',
    description:
      'A JSON merge patch (RFC 7396) of a container: a field left out is kept, `null` removes a field (a campaign, an advisor, a bot), objects merge (`{"campaigns":{"cmp_new":{}}}` adds a campaign), arrays replace: add a domain by sending the full `domains` list.',
  })
