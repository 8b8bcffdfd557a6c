/**
 * The dependency rule of docs/architecture.md ("Dependencies"), checked on every source file's
 * imports (tests and their `*.fixtures.ts`, which may reach anywhere to set things up, aside): routes → services → the
 * repository contract ← engines; domain and the packages below everything; only the wiring files
 * at the root of the collector (app, server, cli, storage…) see both the services and the engines.
 */
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SRC = 'apps/collector/src'

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : sources(path)
    return /\.ts$/.test(e.name) && !/\.(test|fixtures)\.ts$/.test(e.name) ? [path] : []
  })
}

/** Every module a file imports or re-exports, statically or with `import()`: repository paths for relative ones. */
function importsOf(file: string, text = readFileSync(join(ROOT, file), 'utf8')): string[] {
  const specs = [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3] ?? '')
  return specs.map((s) => (s.startsWith('.') ? relative(ROOT, resolve(dirname(join(ROOT, file)), s)).replace(/\.js$/, '.ts') : s))
}

/** The layer of a file of the repository, or of a package it names. */
function layer(path: string): string {
  if (path.startsWith('@tally/')) return `package:${path.slice(7).split('/')[0]}`
  if (path.startsWith('packages/')) return `package:${path.split('/')[1]}`
  if (!path.startsWith(`${SRC}/`)) return path.startsWith('node:') ? 'node' : 'npm'
  const rest = path.slice(SRC.length + 1)
  if (/^engines\/contract(-\w+)?\.ts$/.test(rest)) return 'contract'
  if (/^engines\/[\w-]+\.ts$/.test(rest)) return 'repository' // the contract's interface and its row types
  if (/^engines\/(sqlite|postgres)\//.test(rest)) return 'engine'
  const folder = rest.includes('/') ? rest.split('/')[0]! : 'root'
  return folder
}

/** What each layer may import besides itself, node and npm packages. */
const ALLOWED: Record<string, string[]> = {
  'package:protocol': [],
  'package:sdk': ['package:protocol'],
  'package:billing': ['package:protocol'],
  domain: ['package:protocol', 'package:billing', 'repository'],
  repository: ['package:protocol', 'package:billing'],
  engine: ['repository', 'package:protocol', 'package:billing'],
  contract: ['repository', 'package:protocol', 'package:billing', 'npm'],
  services: ['domain', 'repository', 'package:protocol', 'package:billing'],
  middleware: ['domain', 'root:errors', 'root:context', 'package:protocol'],
  routes: ['services', 'domain', 'middleware', 'repository', 'root:errors', 'root:context', 'package:protocol', 'package:billing'],
  web: ['package:protocol'], // the dashboard's browser code (dashboard/, shared/): the contract only
}

/** Files at the root of the collector that the layers may use: the error edge and the routes' context (types). */
const ROOT_FILES: Record<string, string> = { [`${SRC}/errors.ts`]: 'root:errors', [`${SRC}/context.ts`]: 'root:context' }

function violations(files: string[]): string[] {
  const out: string[] = []
  for (const file of files) {
    const from = layer(file)
    if (from === 'root') continue // the wiring: app, server, cli, storage, testkit
    const allowed = new Set([from, 'node', 'npm', ...(ALLOWED[from] ?? [])])
    if (!ALLOWED[from]) out.push(`${file}: a layer docs/architecture.md does not name (${from})`)
    for (const target of importsOf(file)) {
      const to = ROOT_FILES[target] ?? layer(target)
      if (!allowed.has(to)) out.push(`${file} imports ${target} (${from} → ${to})`)
    }
  }
  return out
}

describe('the dependency rule', () => {
  const files = [...sources('packages/protocol/src'), ...sources('packages/sdk/src'), ...sources('packages/billing/src'), ...sources(SRC)]

  it('holds for every source file', () => {
    expect(files.length).toBeGreaterThan(80)
    expect(violations(files)).toEqual([])
  })

  it('would catch an engine that imports a service, and a service that imports an engine', () => {
    const reach = (file: string, text: string) => importsOf(file, text).map((t) => `${layer(file)} → ${layer(t)}`)
    expect(reach(`${SRC}/engines/sqlite/engine.ts`, "import { createStore } from '../../services/store.js'")).toEqual(['engine → services'])
    expect(reach(`${SRC}/services/usage.ts`, "import type { SqliteEngine } from '../engines/sqlite/engine.js'")).toEqual(['services → engine'])
    expect(reach(`${SRC}/domain/x.ts`, "export { a } from '../services/evidence.js'\nconst m = await import('../routes/admin.js')")).toEqual([
      'domain → services',
      'domain → routes',
    ])
    expect(ALLOWED.engine).not.toContain('services')
    expect(ALLOWED.domain).not.toContain('services')
  })
})
