import { describe, expect, it } from 'vitest'
import { Hono } from 'hono'
import { trustList } from '../domain/ratelimit.js'
import { client, clientOf, resolveClient, type Client } from './client.js'

const trusted = trustList(['10.0.0.1', '192.168.0.0/16', 'fd00::/8'])
const resolve = (url: string, peer: string | undefined, headers: Record<string, string> = {}) => resolveClient(url, peer, (name) => headers[name], trusted)

describe('the client of a request', () => {
  it("is the socket peer, with the URL's protocol and host, when nobody trusted is in between", () => {
    expect(resolve('http://tally.example:8787/x', '203.0.113.9')).toEqual({
      address: '203.0.113.9',
      protocol: 'http',
      host: 'tally.example:8787',
      origin: 'http://tally.example:8787',
    })
  })

  it('ignores every forwarded header from a peer that is not a trusted proxy', () => {
    const c = resolve('http://tally.example/x', '203.0.113.9', {
      'x-forwarded-for': '198.51.100.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
    })
    expect(c).toEqual({ address: '203.0.113.9', protocol: 'http', host: 'tally.example', origin: 'http://tally.example' })
  })

  it("believes a trusted proxy's X-Forwarded-For, -Proto and -Host, taking the first of a list for protocol and host", () => {
    const c = resolve('http://10.0.0.5:8787/x', '10.0.0.1', {
      'x-forwarded-for': '198.51.100.7',
      'x-forwarded-proto': 'HTTPS, http',
      'x-forwarded-host': 'tally.example, inner.example',
    })
    expect(c).toEqual({ address: '198.51.100.7', protocol: 'https', host: 'tally.example', origin: 'https://tally.example' })
  })

  it('takes the last untrusted hop of X-Forwarded-For, so a client cannot pick its own address by prepending one', () => {
    expect(resolve('http://a.example/', '10.0.0.1', { 'x-forwarded-for': '1.1.1.1, 198.51.100.7, 192.168.1.2' }).address).toBe('198.51.100.7')
  })

  it('knows a trusted proxy by its IPv4-mapped IPv6 address too', () => {
    const c = resolve('http://a.example/', '::ffff:10.0.0.1', { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7' })
    expect(c.protocol).toBe('https')
    expect(c.address).toBe('198.51.100.7')
  })

  it("keeps the URL's protocol and host when a trusted proxy sends something that is neither", () => {
    const c = resolve('http://a.example:8787/', '10.0.0.1', { 'x-forwarded-proto': 'gopher', 'x-forwarded-host': 'a b/c' })
    expect(c).toMatchObject({ protocol: 'http', host: 'a.example:8787', origin: 'http://a.example:8787' })
  })

  it("falls back to the URL's origin when a forwarded host is no URL host", () => {
    expect(resolve('http://a.example/', '10.0.0.1', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'b.example:99999' })).toMatchObject({
      protocol: 'http',
      host: 'a.example',
      origin: 'http://a.example',
    })
  })

  it('drops a default port from the host', () => {
    expect(resolve('http://a.example/', '10.0.0.1', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'b.example:443' })).toMatchObject({
      host: 'b.example',
      origin: 'https://b.example',
    })
  })

  it('has the address "unknown" when there is no socket (a request built in memory)', () => {
    expect(resolve('http://a.example/', undefined, { 'x-forwarded-for': '198.51.100.7' }).address).toBe('unknown')
  })
})

describe('the client middleware', () => {
  it('sets c.var.client for the routes after it', async () => {
    const app = new Hono()
    app.use(client(trusted))
    app.get('/who', (c) => c.json(clientOf(c)))
    const res = await app.request('https://tally.example/who')
    expect(await res.json()).toEqual({ address: 'unknown', protocol: 'https', host: 'tally.example', origin: 'https://tally.example' } satisfies Client)
  })

  it('is required: a route that runs without it fails loudly rather than trusting nobody or everybody', async () => {
    const app = new Hono()
    app.get('/who', (c) => c.json(clientOf(c)))
    expect((await app.request('/who')).status).toBe(500)
  })
})
