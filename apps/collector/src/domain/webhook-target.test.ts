import { describe, expect, it } from 'vitest'
import { guardedLookup, isPublicAddress, PrivateAddressError, type Resolve } from './webhook-target.js'

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '100.64.0.1',
    '100.127.255.255',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.8',
    '192.0.2.1',
    '192.168.0.1',
    '198.18.0.1',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.251',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '::7f00:1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::FFFF:A9FE:A9FE',
    '0:0:0:0:0:ffff:10.1.2.3',
    '::ffff:0:7f00:1',
    '64:ff9b::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b:1::1',
    '2002:7f00:1::1',
    '2002:c0a8:101::',
    '100::1',
    '2001:db8::1',
    'fc00::1',
    'fd12:3456:789a::1',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    'fec0::1',
    'ff02::1',
    'ff0e::1',
  ])('%s is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false)
  })

  it.each([
    '93.184.215.14',
    '1.1.1.1',
    '8.8.8.8',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.169.0.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
  ])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true)
  })

  it.each(['localhost', 'hooks.acme.test', '', '[::1]', '127.0.0.1:80'])('%s is not an address, so not public', (text) => {
    expect(isPublicAddress(text)).toBe(false)
  })
})

describe('guardedLookup', () => {
  const resolving =
    (addresses: string[]): Resolve =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  const lookup = (allow: boolean, resolve: Resolve, all: boolean) =>
    new Promise<{ err: unknown; result: unknown }>((done) => {
      guardedLookup(allow, resolve)('hooks.acme.test', { all }, (err: unknown, address?: unknown, family?: unknown) =>
        done({ err, result: all ? address : address === undefined ? undefined : { address, family } }),
      )
    })

  it('hands the socket only the public addresses a name resolves to', async () => {
    const mixed = resolving(['10.0.0.7', '93.184.215.14', '::1', '2606:4700:4700::1111'])
    expect(await lookup(false, mixed, true)).toEqual({
      err: null,
      result: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:4700:4700::1111', family: 6 },
      ],
    })
    expect(await lookup(false, mixed, false)).toEqual({ err: null, result: { address: '93.184.215.14', family: 4 } })
  })

  it('fails with the addresses when none is public, and passes them all when private networks are allowed', async () => {
    const inside = resolving(['169.254.169.254', '::ffff:7f00:1'])
    const { err } = await lookup(false, inside, true)
    expect(err).toBeInstanceOf(PrivateAddressError)
    expect((err as Error).message).toBe('refused: hooks.acme.test resolves only to addresses that are not public (169.254.169.254, ::ffff:7f00:1)')
    expect(await lookup(true, inside, true)).toEqual({
      err: null,
      result: [
        { address: '169.254.169.254', family: 4 },
        { address: '::ffff:7f00:1', family: 6 },
      ],
    })
  })

  it('passes on a resolver failure as it is', async () => {
    const failing: Resolve = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.acme.test'), { code: 'ENOTFOUND' })
    }
    const { err } = await lookup(false, failing, true)
    expect(err).toMatchObject({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND hooks.acme.test' })
  })
})
