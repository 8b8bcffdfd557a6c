/**
 * The refused-beacon spike hook (docs/webhooks.md, `usage.refused_spike`): the beacon route calls
 * it for each refusal it records; it counts in memory (../domain/rejection-spike.ts) and writes the
 * event when a minute goes past the plan's threshold.
 */
import type { Logger } from 'pino'
import { termsAt } from '@tally/billing'
import { REJECTION_SPIKE_PER_MINUTE, rejectionSpikes } from '../domain/rejection-spike.js'
import { billingAccount } from '../domain/billing-account.js'
import type { ConfigState } from '../domain/config.js'
import type { Clock } from '../domain/clock.js'
import type { Store } from './store.js'

/** Never throws, never waits: the refusal's answer does not depend on it. */
export function rejectionSpikeHook(deps: {
  store: Pick<Store, 'rejectionSpike'>
  clock: Clock
  config: ConfigState
  logger: Logger
}): (account: string) => void {
  const { store, clock, config, logger } = deps
  const spikes = rejectionSpikes()
  return (account) => {
    const at = clock.now()
    const hit = spikes.count(account, at, () => {
      const b = billingAccount(config, account)
      return (b && termsAt(b, at)?.terms.plan.refusedSpikePerMinute) ?? REJECTION_SPIKE_PER_MINUTE
    })
    if (hit) store.rejectionSpike({ account, ...hit, at }).catch((err: unknown) => logger.error({ err, account }, 'could not record a refused-beacon spike'))
  }
}
