#!/usr/bin/env node
// Runs every benchmark under bench/<name>/index.mjs in turn (or only those named as arguments).
// Each prints its own figures beside a baseline measured in the same run.
import { readdirSync, existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const dir = fileURLToPath(new URL('.', import.meta.url))
const wanted = process.argv.slice(2)
const names = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'index.mjs')))
  .map((d) => d.name)
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort()
let failed = 0
for (const name of names) {
  console.log(`\n== bench/${name}`)
  const r = spawnSync(process.execPath, [join(dir, name, 'index.mjs')], { stdio: 'inherit' })
  if (r.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
