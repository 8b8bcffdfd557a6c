/**
 * Debian's Chromium for the real-browser tests: where it lives, how it starts here, and the rule
 * that under CI a missing browser is a failure, never a skip.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const chromiumMissing = !existsSync(CHROMIUM)
/** Skip only off CI: `.ci/run` installs Chromium, and there a missing one must fail. */
export const skipWithoutChromium = chromiumMissing && process.env.CI !== 'true'

/** Headless, with no call home, and every `*.test` host resolved to this machine; `args` are added. */
export function launchChromium(args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--host-resolver-rules=MAP *.test 127.0.0.1',
      ...args,
    ],
  })
}
