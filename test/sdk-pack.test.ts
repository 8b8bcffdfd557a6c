/**
 * `@tally/sdk` as someone outside this repository gets it: `npm pack`, then installed into a
 * scratch project in a temporary folder, offline, from local tarballs only — the sdk's, and
 * idb-keyval's (its one runtime dependency) packed from this repository's node_modules — with an
 * empty npm cache, so nothing can come from anywhere else. Then a small program that imports
 * `createTracker` is type-checked by tsc against the installed types (bundler and Node
 * resolution), compiled, bundled with rollup and run.
 * `npm test` builds first; alone, run `npm run build -w @tally/protocol -w @tally/sdk` before.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rollup, type Plugin } from 'rollup'
import { nodeResolve as resolve } from '@rollup/plugin-node-resolve'
import replacePlugin from '@rollup/plugin-replace'
import terserPlugin from '@rollup/plugin-terser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// These plugins' types describe their CommonJS build; the ESM build loaded here exports the function.
const replace = replacePlugin as unknown as typeof replacePlugin.default
const terser = terserPlugin as unknown as typeof terserPlugin.default

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SDK = join(ROOT, 'packages/sdk')
const require = createRequire(import.meta.url)
const TSC = require.resolve('typescript/bin/tsc')
const IDB_KEYVAL = dirname(require.resolve('idb-keyval/package.json'))

let tmp: string
let scratch: string
let packed: { files: { path: string }[]; filename: string }

/** npm with no configuration but ours: no user npmrc, an empty cache, nothing from a parent `npm test`. */
function npm(args: string[], cwd: string): string {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v
  env.npm_config_cache = join(tmp, 'npm-cache')
  env.npm_config_userconfig = join(tmp, 'npmrc')
  env.npm_config_update_notifier = 'false'
  return execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function tsc(project: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(process.execPath, [TSC, '-p', project], { cwd: scratch, encoding: 'utf8' }) }
  } catch (e) {
    return { ok: false, out: String((e as { stdout?: string }).stdout) }
  }
}

/** A scratch tsconfig for one module resolution, checking `files` with the installed types only. */
function tsconfig(name: string, resolution: 'Bundler' | 'NodeNext', files: string[], emit = false) {
  const module = resolution === 'Bundler' ? 'ESNext' : 'NodeNext'
  writeFileSync(
    join(scratch, name),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module,
        moduleResolution: resolution,
        lib: ['ES2022', 'DOM'],
        types: [],
        // The package's own .d.ts is checked too.
        skipLibCheck: false,
        ...(emit ? { outDir: 'out' } : { noEmit: true }),
      },
      files,
    }),
  )
  return join(scratch, name)
}

/** main.ts type-checked and compiled to out/main.js, once for the tests that need it. */
let compiledOnce: { ok: boolean; out: string } | undefined
const compiled = () => (compiledOnce ??= tsc(tsconfig('tsconfig.json', 'Bundler', ['main.ts'], true)))

async function bundle(input: string, plugins: Plugin[] = []): Promise<string> {
  const b = await rollup({ input: join(scratch, input), plugins: [resolve({ browser: true }), ...plugins], logLevel: 'silent' })
  const { output } = await b.generate({ format: 'es' })
  await b.close()
  return output[0].code
}

const PROGRAM = `import { createTracker, memoryStore, type BrowserEvent, type Tracker, type TrackerOptions } from '@tally/sdk'

const sent: string[] = []
const drops: string[] = []
const options: TrackerOptions = {
  container: 'ctr_shop',
  endpoint: 'https://collector.example',
  store: memoryStore(),
  debug: true,
  onDrop: (e: BrowserEvent, reason: string) => void drops.push(e.type + ':' + reason),
  fetch: async (_url: string, init: RequestInit) => {
    sent.push(String(init.body))
    return new Response(JSON.stringify({ accepted: 1, duplicates: 0, rejected: [] }), { status: 200 })
  },
}
const t: Tracker = createTracker(options)
t.impression('cmp_summer')
const c = t.chat('conv_42', { bot: 'bot_help' })
c.end()
t.engagement('not an id')
await t.flush()
console.log(JSON.stringify({ session: t.sessionId(), events: sent.flatMap((b) => JSON.parse(b).events.map((e: BrowserEvent) => e.type)), drops }))
`

// tsc loads the DOM types for each run: a few seconds apiece on a busy 2-core machine.
describe('@tally/sdk, packed and installed elsewhere', { timeout: 60_000 }, () => {
  beforeAll(() => {
    if (!existsSync(join(SDK, 'dist/index.d.ts'))) throw new Error('packages/sdk/dist is missing: run `npm run build -w @tally/protocol -w @tally/sdk` first')
    tmp = mkdtempSync(join(tmpdir(), 'tally-pack-'))
    scratch = join(tmp, 'shop')
    mkdirSync(scratch)
    writeFileSync(join(tmp, 'npmrc'), '')
    ;[packed] = JSON.parse(npm(['pack', SDK, '--pack-destination', tmp, '--ignore-scripts', '--json'], ROOT))
    const [idb] = JSON.parse(npm(['pack', IDB_KEYVAL, '--pack-destination', tmp, '--ignore-scripts', '--json'], ROOT))
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'shop', private: true, type: 'module' }))
    npm(['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(tmp, packed.filename), join(tmp, idb.filename)], scratch)
    writeFileSync(join(scratch, 'main.ts'), PROGRAM)
  }, 60_000)
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  })

  it('packs the builds, their types and the README, and nothing else', () => {
    const files = packed.files.map((f) => f.path).sort()
    expect(files).toEqual(['README.md', 'dist/index.d.ts', 'dist/index.js', 'dist/sdk.mjs', 'dist/t.debug.js', 'dist/t.js', 'package.json'])
    const pkg = JSON.parse(readFileSync(join(scratch, 'node_modules/@tally/sdk/package.json'), 'utf8'))
    expect(pkg.private).toBeUndefined()
    expect(pkg.sideEffects).toBe(false)
    expect(Object.keys(pkg.exports['.'])[0]).toBe('types')
    // The protocol is bundled into the builds and inlined into the types: nothing to install.
    expect(Object.keys(pkg.dependencies)).toEqual(['idb-keyval'])
  })

  it('has types that need no other package', () => {
    const types = readFileSync(join(scratch, 'node_modules/@tally/sdk/dist/index.d.ts'), 'utf8')
    expect(types).not.toMatch(/from\s+['"](?!idb-keyval)[^'"]+['"]|import\(/)
  })

  it('type-checks a program against the installed types and compiles it (bundler resolution)', () => {
    const result = compiled()
    expect(result.out).toBe('')
    expect(result.ok).toBe(true)
  })

  it('type-checks the same program with Node resolution (package exports, ESM)', () => {
    const result = tsc(tsconfig('tsconfig.node.json', 'NodeNext', ['main.ts']))
    expect(result.out).toBe('')
    expect(result.ok).toBe(true)
  })

  it('rejects a program that misuses the API, so the types are really read', () => {
    writeFileSync(join(scratch, 'wrong.ts'), `import { createTracker } from '@tally/sdk'\ncreateTracker({ container: 'ctr_shop' }).impression(42)\n`)
    const result = tsc(tsconfig('tsconfig.wrong.json', 'Bundler', ['wrong.ts']))
    expect(result.ok).toBe(false)
    expect(result.out).toMatch(/wrong\.ts\(2,15\): error TS2345: [^\n]*\n\s*Property 'endpoint' is missing/)
    expect(result.out).toMatch(/wrong\.ts\(2,53\): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/)
  })

  it('bundles with rollup into a program that runs and sends its events', async () => {
    expect(compiled().ok).toBe(true)
    const code = await bundle('out/main.js')
    // One self-contained file: the SDK and idb-keyval inside, no import left.
    expect(code).toContain('tally-js/0.1.0')
    expect(code).toContain('indexedDB.open')
    expect(code).not.toMatch(/\bimport\s*["'{*]|\bfrom\s*["']/)
    writeFileSync(join(scratch, 'bundle.mjs'), code)
    const run = execFileSync(process.execPath, ['bundle.mjs'], { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const result = JSON.parse(run)
    expect(result.session).toMatch(/^s_\w+$/)
    expect(result.events).toEqual(['impression', 'chat', 'chat'])
    expect(result.drops).toEqual(['engagement:invalid_event'])
  })

  it('leaves out what a program does not use, and the diagnostics when the bundler defines __TALLY_DEBUG__ false', async () => {
    writeFileSync(join(scratch, 'store-only.js'), `import { memoryStore } from '@tally/sdk'\nexport const s = memoryStore()\n`)
    const storeOnly = await bundle('store-only.js')
    expect(storeOnly).not.toContain('tally-js/')
    expect(storeOnly).not.toContain('indexedDB')

    writeFileSync(
      join(scratch, 'quiet.js'),
      `import { createTracker } from '@tally/sdk'\nexport const t = createTracker({ container: 'ctr_shop', endpoint: 'https://collector.example' })\n`,
    )
    const minify = terser({ ecma: 2020, module: true, compress: { passes: 2 } })
    const withDebug = await bundle('quiet.js', [minify])
    const quiet = await bundle('quiet.js', [replace({ preventAssignment: true, values: { __TALLY_DEBUG__: 'false' } }), minify])
    for (const s of ['[tally] ', 'x-tally-dropped', 'GET /v1/rejections']) {
      expect(withDebug).toContain(s)
      expect(quiet).not.toContain(s)
    }
    expect(quiet).toContain('tally-js/0.1.0')
    expect(quiet.length).toBeLessThan(withDebug.length - 1000)
  })
})
