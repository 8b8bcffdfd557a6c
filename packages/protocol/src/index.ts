/**
 * @tally/protocol — the public contract shared by the SDK and the collector.
 * The SDK imports types and constants only (`limits`, `codes`, `events`); the validators
 * (`validate`, `config`) are for the collector.
 */
export * from './limits.js'
export * from './codes.js'
export { CHAT_PHASES } from './events.js'
export type * from './events.js'
export { parseEnvelope, parseEvent, parseUsageEvent } from './validate.js'
export type { Envelope, Checked } from './validate.js'
export {
  CYCLES, CYCLE_MONTHS, METERS, PlanSchema, PortalPolicySchema, portalPolicyOf, ContainerSchema, SubscriptionSchema, AccountSchema, ConfigSchema, ServerSchema,
  RESERVED_IDS, parseConfig, parseConfigText, parseAccount, parseContainer, isConfigId, subscriptionProblem, duplicateKey,
} from './config.js'
export type { Cycle, Meter, Plan, PortalPolicy, ContainerConfig, Subscription, AccountConfig, TallyConfig, ServerConfig, ParseOptions } from './config.js'
