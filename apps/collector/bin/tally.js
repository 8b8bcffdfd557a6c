#!/usr/bin/env node
// The `tally` command of a clone: `npm install` links it before anything is built, so it loads
// the built CLI and, when the build is missing, says how to make it (docs/protocol.md §8:
// `npx tally …` works from a clone).
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  console.error('tally: the collector is not built yet: run `npm run build` at the repository root (`npm start` builds it too)')
  process.exit(2)
}
await import(cli.href)
