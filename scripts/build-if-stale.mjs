#!/usr/bin/env node
// Builds the workspaces whose sources are newer than their build, so `npm start` answers at once
// when nothing changed (a full build takes about a minute on two cores). The first start after
// a clone or an `npm install` that brought new sources builds.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** In build order; `output` is the file each build writes last or always. */
const WORKSPACES = [
  { name: '@tally/protocol', dir: 'packages/protocol', output: 'dist/index.js' },
  { name: '@tally/sdk', dir: 'packages/sdk', output: 'dist/t.js', extra: ['rollup.config.mjs'] },
  { name: '@tally/billing', dir: 'packages/billing', output: 'dist/index.js' },
  // The pages' bundle is written after the server's build (tsc, then rollup).
  { name: '@tally/collector', dir: 'apps/collector', output: 'dist/web/dashboard.js', extra: ['apps/collector/rollup.config.mjs'] },
]

function newest(path) {
  if (!existsSync(path)) return 0
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  let n = 0
  for (const e of readdirSync(path)) if (e !== 'node_modules' && e !== 'dist') n = Math.max(n, newest(join(path, e)))
  return n
}

let rebuiltBefore = false
for (const w of WORKSPACES) {
  const out = join(ROOT, w.dir, w.output)
  const built = existsSync(out) ? statSync(out).mtimeMs : 0
  const sources = Math.max(
    newest(join(ROOT, w.dir, 'src')),
    newest(join(ROOT, w.dir, 'package.json')),
    newest(join(ROOT, w.dir, 'tsconfig.build.json')),
    ...(w.extra ?? []).map((f) => newest(join(ROOT, f))),
  )
  // A workspace that depends on a rebuilt one is rebuilt too (its types may have changed).
  if (built >= sources && !rebuiltBefore) continue
  console.error(`building ${w.name}${built ? ' (sources changed)' : ''}…`)
  execFileSync('npm', ['run', 'build', '--silent', '-w', w.name], { cwd: ROOT, stdio: 'inherit' })
  rebuiltBefore = true
}
