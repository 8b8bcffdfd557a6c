import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  resolve: {
    alias: {
      // Before '@tally/protocol', whose entry would otherwise take the subpath as a prefix.
      '@tally/protocol/contract': src('./packages/protocol/src/contract.ts'),
      '@tally/protocol': src('./packages/protocol/src/index.ts'),
      '@tally/billing': src('./packages/billing/src/index.ts'),
      '@tally/sdk': src('./packages/sdk/src/index.ts'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    // One PostgreSQL for the run (a throwaway cluster, or TALLY_TEST_PG_URL); see test/pg/.
    globalSetup: ['test/pg/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Browser and crash tests start servers and Chromium: keep the 2-core machine from thrashing.
    maxWorkers: 2,
  },
})
