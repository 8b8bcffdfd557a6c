import { createApp } from './dist/app.js'
import { SqliteStore } from './dist/store/sqlite.js'
import { parseConfig } from '@tally/protocol'
import { readFileSync } from 'node:fs'
const cfg = parseConfig(JSON.parse(readFileSync('/tmp/cprof/config.json','utf8'))).value
const store = new SqliteStore({ file: '/tmp/cprof/y.db' })
const app = createApp({ store, config: cfg })
const body = readFileSync('/tmp/body.json','utf8')
const headers = { origin: 'https://bench.test', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36' }
for (const round of [1,2]) {
  let t = performance.now()
  for (let i = 0; i < 500; i++) await app.request('/v1/containers/ctr_bench/events', { method: 'POST', headers, body })
  console.log('sequential ms/req', (performance.now() - t) / 500)
  t = performance.now()
  for (let i = 0; i < 10; i++) await Promise.all(Array.from({length: 50}, () => app.request('/v1/containers/ctr_bench/events', { method: 'POST', headers, body })))
  console.log('concurrent ms/req', (performance.now() - t) / 500)
}
