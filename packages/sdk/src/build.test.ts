// The build's guard on the package boundary: the SDK takes @tally/protocol through its `contract`
// entry only, never its validators (zod) and never its sources by relative path.
// Needs @tally/protocol built (`npm test` builds first).
import { fileURLToPath, pathToFileURL } from 'node:url'
import { rollup, type Plugin, type RollupOptions } from 'rollup'
import { describe, expect, it } from 'vitest'

const CONFIG = fileURLToPath(new URL('../../../rollup.config.mjs', import.meta.url))
const PROTOCOL_SRC = fileURLToPath(new URL('../../protocol/src/limits.ts', import.meta.url))

/** Bundles `code` as an entry beside the SDK's sources, with t.js's resolution and guard (no TypeScript or minifier; dist left alone). */
async function build(code: string): Promise<void> {
  const configs = (await import(pathToFileURL(CONFIG).href)).default as RollupOptions[]
  const script = configs.find((c) => !Array.isArray(c.output) && c.output?.file?.endsWith('/t.js'))!
  const plugins = (script.plugins as Plugin[]).filter((p) => !['tally-clean-dist', 'terser', 'typescript'].includes(p.name))
  const entry = fileURLToPath(new URL('./entry.js', import.meta.url))
  const virtual: Plugin = { name: 'entry', resolveId: (id) => (id === entry ? id : null), load: (id) => (id === entry ? code : null) }
  const bundle = await rollup({ input: entry, plugins: [virtual, ...plugins], logLevel: 'silent' })
  await bundle.close()
}

describe('the SDK build', () => {
  it('takes constants from @tally/protocol/contract', async () => {
    await expect(build(`import { ID_PATTERN } from '@tally/protocol/contract'; console.log(ID_PATTERN)`)).resolves.toBeUndefined()
  })

  it("refuses the protocol's main entry, which brings the validators and zod", async () => {
    await expect(build(`import { ID_PATTERN } from '@tally/protocol'; console.log(ID_PATTERN)`)).rejects.toThrow(
      /the SDK bundle must not include .*protocol[\\/]dist[\\/]index\.js/,
    )
  })

  it("refuses the protocol's sources imported by path, past the package's exports", async () => {
    await expect(build(`import { ID_PATTERN } from ${JSON.stringify(PROTOCOL_SRC)}; console.log(ID_PATTERN)`)).rejects.toThrow(
      /the SDK bundle must not include .*protocol[\\/]src[\\/]limits\.ts/,
    )
  })
})
