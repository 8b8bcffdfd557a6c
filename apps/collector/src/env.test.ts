import { describe, expect, it } from 'vitest'
import { EnvError, readEnv } from './env.js'
import { ConfigError } from './domain/config.js'

const refusal = (env: Record<string, string>) => {
  try {
    readEnv(env)
  } catch (e) {
    expect(e).toBeInstanceOf(EnvError)
    return (e as Error).message
  }
  throw new Error('accepted')
}

describe('the environment', () => {
  it('reads every variable it takes, typed, and leaves out the unset and the empty', () => {
    expect(
      readEnv({
        PORT: '8080',
        STOREFRONT_PORT: '0',
        TALLY_CONFIG: 'tally.json',
        TALLY_ADMIN_TOKEN: '',
        TALLY_SQLITE_SYNC: 'FULL',
        TALLY_PG_POOL_SIZE: '20',
        TALLY_WEBHOOK_POLL_MS: '50',
        LOG_LEVEL: 'debug',
        HOME: '/root',
      }),
    ).toEqual({
      PORT: 8080,
      STOREFRONT_PORT: 0,
      TALLY_CONFIG: 'tally.json',
      TALLY_SQLITE_SYNC: 'FULL',
      TALLY_PG_POOL_SIZE: 20,
      TALLY_WEBHOOK_POLL_MS: 50,
      LOG_LEVEL: 'debug',
    })
  })

  it.each(['full', 'Full', 'FULL'])('takes TALLY_SQLITE_SYNC=%s as FULL, as SQLite takes its own setting', (v) => {
    expect(readEnv({ TALLY_SQLITE_SYNC: v }).TALLY_SQLITE_SYNC).toBe('FULL')
  })

  it.each([
    [{ TALLY_SQLITE_SYNC: 'fast' }, 'TALLY_SQLITE_SYNC=fast: expected NORMAL or FULL'],
    [{ TALLY_SQLITE_SYNC: 'OFF' }, 'TALLY_SQLITE_SYNC=OFF: expected NORMAL or FULL'],
    [{ PORT: 'http' }, 'PORT=http: expected a port number'],
    [{ PORT: '70000' }, 'PORT=70000: expected a port number'],
    [{ STOREFRONT_PORT: '-1' }, 'STOREFRONT_PORT=-1: expected a port number'],
    [{ TALLY_PG_POOL_SIZE: '0' }, 'TALLY_PG_POOL_SIZE=0: expected a positive whole number'],
    [{ TALLY_WEBHOOK_GIVE_UP_MS: '1e3' }, 'TALLY_WEBHOOK_GIVE_UP_MS=1e3: expected a positive whole number of milliseconds'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL=verbose: expected one of fatal, error, warn, info, debug, trace, silent'],
  ])('refuses %j in one sentence naming the variable and what it takes', (env, message) => {
    expect(refusal(env)).toBe(message)
  })

  it('refuses a TALLY_ variable it does not read, with the one it probably meant', () => {
    expect(refusal({ TALLY_SQLITE_SYN: 'FULL' })).toBe('TALLY_SQLITE_SYN is not a variable the collector reads; did you mean TALLY_SQLITE_SYNC?')
    expect(refusal({ TALLY_ADMIN_TOKN: 'x' })).toContain('did you mean TALLY_ADMIN_TOKEN?')
    expect(refusal({ TALLY_NONSENSE: '1' })).toMatch(/^TALLY_NONSENSE is not a variable the collector reads \(it reads TALLY_CONFIG, /)
  })

  it('leaves alone the TALLY_ variables of the examples, the tests and the benches, and every other variable', () => {
    expect(readEnv({ TALLY_URL: 'http://x', TALLY_SECRET_KEY: 'sk', TALLY_TEST_PG_URL: 'postgres://x', NODE_ENV: 'production' })).toEqual({})
  })

  it('is a configuration error, so every caller that stops the start on one stops on it', () => {
    expect(() => readEnv({ PORT: 'x' })).toThrow(ConfigError)
  })
})
