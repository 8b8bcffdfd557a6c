/**
 * The demo storefront of `npm start`, served from a second origin so that the page talks to the
 * collector cross-origin, as a real shop does. `%COLLECTOR%` in HTML files becomes the
 * collector's URL.
 */
import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { dirname, extname, join, normalize, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'

export const STOREFRONT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples/storefront')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json',
}

export async function startStorefront(opts: { collectorUrl: string; port: number; host: string; dir?: string }): Promise<{ server: Server; port: number }> {
  const dir = opts.dir ?? STOREFRONT_DIR
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path))
    if (!file.startsWith(dir)) {
      res.writeHead(404).end()
      return
    }
    try {
      let body: Buffer | string = await readFile(file)
      if (extname(file) === '.html') body = body.toString('utf8').replaceAll('%COLLECTOR%', opts.collectorUrl)
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(body)
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
    }
  })
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host, resolve))
  return { server, port: (server.address() as AddressInfo).port }
}
