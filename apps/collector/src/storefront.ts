/**
 * The demo storefront of `npm start`, served from a second origin so that the page talks to the
 * collector cross-origin, as a real shop does. `%COLLECTOR%` in HTML files becomes the
 * collector's URL.
 *
 * Beside the shop it serves the chat-widget example under `/chat-widget/` and the ESM SDK under
 * `/sdk/` (`index.js` and its one dependency as `idb-keyval.js`), so that the widget runs as
 * plain modules through an import map, with no bundler.
 */
import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { dirname, extname, join, normalize, resolve, sep } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import { PortInUse, listenOn } from './listen.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const STOREFRONT_DIR = resolve(ROOT, 'examples/storefront')

/** URL prefix -> folder or file, besides the shop's own folder. */
const MOUNTS: Array<[string, string]> = [
  ['/chat-widget/', resolve(ROOT, 'examples/chat-widget')],
  ['/sdk/index.js', resolve(ROOT, 'packages/sdk/dist/index.js')],
  ['/sdk/idb-keyval.js', resolve(createRequire(import.meta.url).resolve('idb-keyval'), '../index.js')],
]

/** The file a URL path names, or undefined when it would leave its folder. */
function fileFor(dir: string, path: string): string | undefined {
  for (const [prefix, target] of MOUNTS) {
    if (path === prefix && !prefix.endsWith('/')) return target
    if (prefix.endsWith('/') && path.startsWith(prefix)) return inside(target, path.slice(prefix.length - 1))
  }
  return inside(dir, path)
}

function inside(dir: string, path: string): string | undefined {
  const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path))
  return file.startsWith(dir + sep) || file === dir ? file : undefined
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
}

export async function startStorefront(opts: { collectorUrl: string; port: number; host: string; dir?: string }): Promise<{ server: Server; port: number }> {
  const dir = opts.dir ?? STOREFRONT_DIR
  const server = createServer(async (req, res) => {
    let file: string | undefined
    try {
      file = fileFor(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))
    } catch {
      // A malformed escape (`%E0%A4%A`) names no file.
    }
    if (!file) {
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
  await listenOn(server, opts.port, opts.host)
  return { server, port: (server.address() as AddressInfo).port }
}

/**
 * The storefront on the first free port from `from` on (the demo's default: the port after the
 * collector's), trying at most `tries` ports.
 */
export async function startStorefrontFrom(opts: {
  collectorUrl: string
  from: number
  host: string
  tries?: number
}): Promise<{ server: Server; port: number }> {
  const tries = opts.tries ?? 50
  for (let port = opts.from; ; port++) {
    try {
      return await startStorefront({ collectorUrl: opts.collectorUrl, port, host: opts.host })
    } catch (e) {
      if (!(e instanceof PortInUse) || port >= Math.min(65535, opts.from + tries - 1)) throw e
    }
  }
}
