// The first ceiling: a bare Hono route on the same Node server that only reads and parses the
// body, then answers like the collector would. Run as a child process by index.mjs.
import { Hono } from 'hono'
import { serve } from '@hono/node-server'

const app = new Hono()
app.post('/v1/containers/:container/events', async (c) => {
  const batch = JSON.parse(await c.req.text())
  return c.json({ accepted: batch.events.length, duplicates: 0, rejected: [] })
})
const server = serve({ fetch: app.fetch, port: Number(process.argv[2]), hostname: '127.0.0.1' }, () => process.send?.('ready'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
