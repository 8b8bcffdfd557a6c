/**
 * The served OpenAPI document against Redocly's `recommended` rules, with the CLI the repository
 * pins, offline (telemetry and update checks off), from a temporary folder so that no
 * `redocly.yaml` changes the rules: no error and no warning.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setup } from '../apps/collector/src/testkit.js'

const REDOCLY = fileURLToPath(new URL('../node_modules/@redocly/cli/bin/cli.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'tally-openapi-lint-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Problem {
  ruleId: string
  severity: string
  message: string
  location: { pointer: string }[]
}

/** `redocly lint --extends recommended` on a document: its exit code and problems. */
function lint(name: string, doc: unknown): Promise<{ code: number; problems: Problem[]; totals: Record<string, number> }> {
  writeFileSync(join(dir, name), JSON.stringify(doc, null, 2))
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [REDOCLY, 'lint', '--extends', 'recommended', '--format', 'json', name],
      { cwd: dir, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
        try {
          const report = JSON.parse(stdout) as { problems: Problem[]; totals: Record<string, number> }
          resolve({ code, problems: report.problems, totals: report.totals })
        } catch {
          reject(new Error(`redocly lint exited ${code} without a JSON report: ${stderr}`))
        }
      },
    )
  })
}

const where = (p: Problem) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`

/** The document as a collector serves it at the address `tally serve` announces. */
async function served(): Promise<Record<string, unknown>> {
  const { app } = setup()
  const res = await app.request('http://127.0.0.1:8787/openapi.json')
  expect(res.status).toBe(200)
  return res.json()
}

describe('the served OpenAPI document', () => {
  it("passes Redocly's recommended rules with no problem at all", async () => {
    const r = await lint('served.json', await served())
    expect(r.problems.map(where)).toEqual([])
    expect(r.totals).toMatchObject({ errors: 0, warnings: 0 })
    expect(r.code).toBe(0)
  })

  it('would be reported without servers, an operation id or its client errors', async () => {
    // The same run catches a document that lacks what the served one has.
    const doc = (await served()) as { servers?: unknown; paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>> }
    delete doc.servers
    const period = doc.paths['/v1/period']?.get
    if (!period) throw new Error('GET /v1/period is not documented')
    delete period.operationId
    for (const status of Object.keys(period.responses)) if (status.startsWith('4')) delete period.responses[status]
    const r = await lint('broken.json', doc)
    expect(r.problems.map((p) => p.ruleId).sort()).toEqual(['no-empty-servers', 'operation-4xx-response', 'operation-operationId'])
    expect(r.code).not.toBe(0)
  })
})
