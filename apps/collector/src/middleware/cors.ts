/**
 * CORS for the ingestion route, on every answer, errors included: a page that cannot read the
 * status sees a "network error" and retries forever instead of dropping a refused batch
 * (umami#2735). The answer carries no secret and no credentials are allowed, so the request's
 * origin is echoed even on a 403; the origin check itself happens on the server.
 */
import type { MiddlewareHandler } from 'hono'

const EXPOSED = 'Retry-After, X-Tally-Dropped'

export const cors = (): MiddlewareHandler => async (c, next) => {
  const origin = c.req.header('origin')
  const allow = origin && origin !== 'null' ? origin : '*'
  if (c.req.method === 'OPTIONS') {
    return c.body(null, 204, {
      'Access-Control-Allow-Origin': allow,
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': c.req.header('access-control-request-headers') ?? 'Content-Type',
      'Access-Control-Max-Age': '86400',
      Vary: 'Origin, Access-Control-Request-Headers',
    })
  }
  await next()
  c.res.headers.set('Access-Control-Allow-Origin', allow)
  c.res.headers.set('Access-Control-Expose-Headers', EXPOSED)
  c.res.headers.append('Vary', 'Origin')
}
