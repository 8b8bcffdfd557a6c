/** What the dashboard calls each meter of the usage report (the meters themselves are the contract's). */
import type { UsageMeter } from '@tally/protocol/contract'

export const METER_LABELS: Record<UsageMeter, string> = {
  impressions: 'Impressions',
  engagements: 'Engagements',
  chatSessions: 'Chat sessions',
  alerts: 'Alert sessions',
  credits: 'Credits',
  // Units of sessions past the hourly cap per address: stored and shown, never billed (docs/security.md).
  suspicious: 'Suspicious (not billed)',
}
