/**
 * @tally/protocol — the public contract shared by the SDK and the collector.
 * The SDK imports types and constants only (`limits`, `codes`, `events`); the validators
 * (`validate`, `config`) are for the collector.
 */
export * from './limits.js'
export * from './codes.js'
export * from './rejections.js'
export * from './dates.js'
export * from './usage.js'
export { CHAT_PHASES } from './events.js'
export type * from './events.js'
export { parseEnvelope, parseEvent, parseUsageEvent, EnvelopeSchema, BrowserEventSchema, UsageEventSchema, IdSchema } from './validate.js'
export { describe as describeIssues } from './issues.js'
export type { Envelope, Checked } from './validate.js'
export {
  CYCLES,
  CYCLE_MONTHS,
  METERS,
  PlanSchema,
  PortalPolicySchema,
  portalPolicyOf,
  ContainerSchema,
  SubscriptionSchema,
  AccountSchema,
  ConfigSchema,
  ServerSchema,
  RESERVED_IDS,
  parseConfig,
  parseConfigText,
  parseAccount,
  parseContainer,
  isConfigId,
  subscriptionProblem,
  closestName,
  CONFIG_YEARS,
} from './config.js'
export { duplicateKey, MAX_JSON_DEPTH, jsonTooDeep } from './json-keys.js'
export type { Cycle, Meter, Plan, PortalPolicy, ContainerConfig, Subscription, AccountConfig, TallyConfig, ServerConfig, ParseOptions } from './config.js'
