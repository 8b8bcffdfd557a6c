import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from './domain/config.js'
import { pgOptions, redact } from './server.js'

describe('the PostgreSQL settings of tally serve', () => {
  const names = ['TALLY_PG_POOL_SIZE', 'TALLY_PG_STATEMENT_TIMEOUT_MS', 'TALLY_PG_CONNECT_TIMEOUT_MS'] as const
  afterEach(() => {
    for (const n of names) delete process.env[n]
  })

  it('takes the pool size and timeouts from the environment, and leaves the defaults otherwise', () => {
    expect(pgOptions('postgres://db/tally')).toMatchObject({ url: 'postgres://db/tally', poolSize: undefined, statementTimeoutMs: undefined })
    Object.assign(process.env, { TALLY_PG_POOL_SIZE: '4', TALLY_PG_STATEMENT_TIMEOUT_MS: '2000', TALLY_PG_CONNECT_TIMEOUT_MS: '1000' })
    expect(pgOptions('postgres://db/tally')).toMatchObject({ poolSize: 4, statementTimeoutMs: 2000, connectTimeoutMs: 1000 })
  })

  it.each(['0', '-1', '1.5', 'ten', '1e3x'])('refuses %j as a pool size with a configuration error', (v) => {
    process.env.TALLY_PG_POOL_SIZE = v
    expect(() => pgOptions('postgres://db/tally')).toThrow(ConfigError)
  })

  it.each([
    ['postgres://tally:secret@db:5432/tally', 'postgres://tally:***@db:5432/tally'],
    ['postgres://tally@db/tally', 'postgres://tally@db/tally'],
  ])('logs %s as %s', (url, shown) => {
    expect(redact(url)).toBe(shown)
  })
})
