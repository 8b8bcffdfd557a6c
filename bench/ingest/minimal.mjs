// The second ceiling of bench/ingest: the minimal pipeline any collector on this stack must run.
// The collector's own parts — the same Node server adaptor, the same route, the same body reader
// and JSON parse (middleware/body.ts), the same storage thread with its group commit
// (storage-thread.ts over engines/sqlite/worker.ts, engine.ts), and the same rows written by the same insert statements
// (services/ingest.ts: billable units by their unique keys, one rollup upsert) — and none of the
// rules: no origin, catalog, session, rate or envelope checks, no clock-skew correction, no
// rejection log, no metrics. Run as a child process by index.mjs: argv port, database file.
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { readJson } from '../../apps/collector/dist/middleware/body.js'
import { serverOptions, SOCKET_LIMITS } from '../../apps/collector/dist/middleware/sockets.js'
import { openWorkerStore } from '../../apps/collector/dist/storage-thread.js'

const [port, file] = process.argv.slice(2)
const store = await openWorkerStore({ file, synchronous: 'NORMAL' })
const app = new Hono()
app.post('/v1/containers/:container/events', async (c) => {
  const container = c.req.param('container')
  const batch = await readJson(c)
  const events = batch.events.map((e) => ({ id: e.id, type: 'impression', session: e.session, subject: e.campaign, time: e.ts }))
  const statuses = await store.ingest({ account: 'bench', container, receivedAt: Date.now(), timeZone: 'UTC', events })
  let accepted = 0
  for (const s of statuses) if (s === 'accepted') accepted++
  return c.json({ accepted, duplicates: statuses.length - accepted, rejected: [] })
})
const server = createAdaptorServer({ fetch: app.fetch, serverOptions: serverOptions(SOCKET_LIMITS) })
server.listen(Number(port), '127.0.0.1', () => process.send?.('ready'))
process.on('SIGTERM', () =>
  server.close(async () => {
    await store.close()
    process.exit(0)
  }),
)
