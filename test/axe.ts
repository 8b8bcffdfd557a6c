/** axe-core in the browser suites: every page a person sees passes with no serious or critical violation. */
import { AxeBuilder } from '@axe-core/playwright'
import { expect } from 'vitest'
import type { Page } from 'playwright-core'

/** axe-core on what `page` shows now; `what` names the state in a failure. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const r = await new AxeBuilder({ page }).analyze()
  const bad = r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(bad, what).toEqual([])
}
