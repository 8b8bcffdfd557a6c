/**
 * A typed client from the served OpenAPI document: openapi-typescript generates the types, and a
 * small program calls every read endpoint (every GET under `/v1/`, an account's and the admin's)
 * through openapi-fetch with them. The program is written here by hand, not from the document,
 * so that it stops type-checking when a path or a parameter it uses leaves the document. The
 * client example of docs/api.md is type-checked beside it.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript'
import { setup } from '../apps/collector/src/testkit.js'

const NODE_MODULES = fileURLToPath(new URL('../node_modules/', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'tally-openapi-client-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * Reads every account and admin GET route, and uses a field of each answer, as a client would.
 * One line per call. openapi-fetch infers its options from the argument and so lets an unknown
 * parameter through; \`satisfies\` the operation's own parameters (by operation id) makes a
 * parameter the document dropped an error on that very line.
 */
const PROGRAM = `
import createClient from 'openapi-fetch'
import type { operations, paths } from './schema.js'

type Query<O extends keyof operations> = NonNullable<operations[O]['parameters']['query']>
type Path<O extends keyof operations> = NonNullable<operations[O]['parameters']['path']>

// A JSON client: the answers' JSON types (CSV and PDF are other media types of the same routes).
const client = createClient<paths, 'application/json'>({ baseUrl: 'http://127.0.0.1:8787', headers: { Authorization: 'Bearer rk_acme_read' } })
const admin = createClient<paths, 'application/json'>({ baseUrl: 'http://127.0.0.1:8787', headers: { Authorization: 'Bearer admin-token' } })
const id = 'acme'

export async function account(): Promise<Array<number | string | undefined>> {
  return [
    (await client.GET('/v1/usage', { params: { query: { from: '2026-07-01', to: '2026-07-31', groupBy: 'day,campaign', format: 'json' } satisfies Query<'getUsage'> } })).data?.rows[0]?.impressions,
    (await client.GET('/v1/usage', { params: { query: { from: 'not a day' } satisfies Query<'getUsage'> } })).error?.error.code,
    (await client.GET('/v1/period')).data?.meters.chatSessions,
    (await client.GET('/v1/invoices')).data?.invoices[0]?.total,
    (await client.GET('/v1/invoices/{file}', { params: { path: { file: '1.json' } satisfies Path<'getInvoice'> } })).data?.lines[0]?.amount,
    // Evidence is CSV or JSON lines, not JSON: read as text.
    (await client.GET('/v1/invoices/{number}/{file}', { params: { path: { number: '2', file: 'evidence.jsonl' } satisfies Path<'getInvoiceEvidence'> }, parseAs: 'text' })).response.status,
    (await client.GET('/v1/credits')).data?.wallets['account']?.balance,
    (await client.GET('/v1/credits/log', { params: { query: { wallet: 'member:alice' } satisfies Query<'getCreditLog'> } })).data?.entries[0]?.credits,
    (await client.GET('/v1/rejections', { params: { query: { since: '2026-07-01T00:00:00Z' } satisfies Query<'getRejections'> } })).data?.rejections[0]?.count,
  ]
}

/** The billing portal's reads, with the session cookie a browser holds. */
export async function billingPortal(cookie: string): Promise<Array<number | string | undefined>> {
  const portal = createClient<paths>({ baseUrl: 'https://tally.example', headers: { cookie } })
  return [
    (await portal.GET('/v1/portal/state')).response.status,
    (await portal.GET('/v1/portal/credits/log', { params: { query: { type: 'spend', from: '2026-07-01' } satisfies Query<'getPortalCreditLog'> } })).response.status,
    (await portal.GET('/v1/portal/invoices/{file}', { params: { path: { file: '1.pdf' } satisfies Path<'getPortalInvoice'> }, parseAs: 'blob' })).response.status,
    (await client.GET('/v1/notices')).response.status,
  ]
}

export async function anyAccount(): Promise<Array<number | undefined>> {
  return [
    (await admin.GET('/v1/admin/accounts/{id}/usage', { params: { path: { id } satisfies Path<'adminGetUsage'>, query: { from: '2026-07-01', groupBy: 'bot', format: 'json' } satisfies Query<'adminGetUsage'> } })).data?.rows.length,
    (await admin.GET('/v1/admin/accounts/{id}/period', { params: { path: { id } satisfies Path<'adminGetPeriod'> } })).data?.emails.left,
    (await admin.GET('/v1/admin/accounts/{id}/invoices', { params: { path: { id } satisfies Path<'adminGetInvoices'> } })).data?.invoices.length,
    (await admin.GET('/v1/admin/accounts/{id}/invoices/{file}', { params: { path: { id, file: '1' } satisfies Path<'adminGetInvoice'> } })).data?.total,
    (await admin.GET('/v1/admin/accounts/{id}/invoices/{number}/{file}', { params: { path: { id, number: '2', file: 'evidence' } satisfies Path<'adminGetInvoiceEvidence'> }, parseAs: 'text' })).response.status,
    (await admin.GET('/v1/admin/accounts/{id}/credits', { params: { path: { id } satisfies Path<'adminGetCredits'> } })).data?.wallets['account']?.lots.length,
    (await admin.GET('/v1/admin/accounts/{id}/credits/log', { params: { path: { id } satisfies Path<'adminGetCreditLog'>, query: { wallet: 'account' } satisfies Query<'adminGetCreditLog'> } })).data?.entries.length,
    (await admin.GET('/v1/admin/accounts/{id}/rejections', { params: { path: { id } satisfies Path<'adminGetRejections'>, query: { since: '2026-07-01T00:00:00Z' } satisfies Query<'adminGetRejections'> } })).data?.rejections.length,
    (await admin.GET('/v1/admin/accounts')).data?.accounts.length,
    (await admin.GET('/v1/admin/accounts/{id}', { params: { path: { id } satisfies Path<'adminGetAccount'> } })).data?.account.containers['ctr_shop']?.domains.length,
    (await admin.GET('/v1/admin/accounts/{id}/history', { params: { path: { id } satisfies Path<'adminGetAccountHistory'>, query: { limit: 5 } satisfies Query<'adminGetAccountHistory'> } })).data?.versions[0]?.version,
    (await admin.GET('/v1/admin/containers/{id}', { params: { path: { id: 'ctr_shop' } satisfies Path<'adminGetContainer'> } })).data?.container.domains.length,
    (await admin.GET('/v1/admin/accounts/{id}/webhooks', { params: { path: { id } satisfies Path<'adminGetWebhookEndpoints'> } })).data?.endpoints.length,
    (await admin.GET('/v1/admin/accounts/{id}/webhooks/deliveries', { params: { path: { id } satisfies Path<'adminGetWebhookDeliveries'>, query: { limit: 10 } satisfies Query<'adminGetWebhookDeliveries'> } })).data?.deliveries[0]?.attempts,
  ]
}
`

/** The client example of docs/api.md, importing the generated types as \`./schema.js\`. */
function docsExample(): string {
  const api = readFileSync(fileURLToPath(new URL('../docs/api.md', import.meta.url)), 'utf8')
  const section = api.slice(api.indexOf('## The OpenAPI document and a typed client'))
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  if (!code) throw new Error('docs/api.md has no TypeScript example of the client')
  return code.replace("from './tally-api'", "from './schema.js'")
}

async function served(): Promise<OpenAPI3> {
  const { app } = setup()
  return (await app.request('/openapi.json')).json() as Promise<OpenAPI3>
}

/** Generates `schema.ts` from a document into `folder`, writes the program beside it and type-checks it. */
async function typeCheck(doc: OpenAPI3, folder: string): Promise<{ file: string; line: number; text: string }[]> {
  const at = join(dir, folder)
  mkdirSync(at)
  const program = join(at, 'program.ts')
  const example = join(at, 'example.ts')
  writeFileSync(join(at, 'schema.ts'), astToString(await openapiTS(doc, { silent: true })))
  writeFileSync(program, PROGRAM)
  writeFileSync(example, docsExample())
  const compiled = ts.createProgram([program, example], {
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    // The folder is outside the repository: find openapi-fetch in the repository's node_modules.
    baseUrl: dir,
    paths: { '*': [`${NODE_MODULES}*`] },
  })
  return ts
    .getPreEmitDiagnostics(compiled)
    .map((d) => ({
      file: d.file?.fileName ?? '',
      line: d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0,
      text: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    }))
}

const lineOf = (needle: string) => PROGRAM.split('\n').findIndex((l) => l.includes(needle)) + 1

describe('a typed client generated from the served document', () => {
  it('calls every account and admin read endpoint', async () => {
    const doc = await served()
    const reads = Object.entries(doc.paths ?? {})
      .filter(([path, item]) => path.startsWith('/v1/') && 'get' in item)
      .map(([path]) => path)
    // The 14 account and mirror reads, the admin's reads of the configuration in force, the webhook
    // endpoints and delivery log of docs/webhooks.md, the evidence of an invoice for the account and the admin,
    // the versions of an account (docs/configuration.md), the billing portal's reads (docs/portal.md) and the notices.
    expect(reads.length).toBe(26)
    for (const path of reads) expect(PROGRAM, `no call of GET ${path}`).toContain(`.GET('${path}'`)
  })

  it('type-checks with the generated types, and so does the example of docs/api.md', async () => {
    const problems = await typeCheck(await served(), 'served')
    expect(problems).toEqual([])
  }, 60_000)

  it('stops type-checking when a path or a parameter leaves the document', async () => {
    const doc = await served()
    const paths = doc.paths as Record<string, { get?: { parameters?: { name: string }[] } }>
    delete paths['/v1/credits']
    const usage = paths['/v1/admin/accounts/{id}/usage']?.get
    if (!usage?.parameters) throw new Error('GET /v1/admin/accounts/{id}/usage has no parameters')
    usage.parameters = usage.parameters.filter((p) => p.name !== 'groupBy')
    const problems = await typeCheck(doc, 'broken')
    const program = problems.filter((p) => p.file.endsWith('program.ts'))
    expect([...new Set(program.map((p) => p.line))].sort((a, b) => a - b)).toEqual([
      lineOf("client.GET('/v1/credits')"),
      lineOf("admin.GET('/v1/admin/accounts/{id}/usage'"),
    ])
    expect(problems.length).toBe(program.length)
  }, 60_000)
})
