/**
 * `@tally/protocol/contract`: the part of the contract a browser bundle may load — limits,
 * codes and wire types, and no validator (zod and the config schema would multiply the SDK's
 * size). The SDK imports this entry only; the build refuses anything else from the package.
 */
export * from './limits.js'
export * from './codes.js'
export * from './rejections.js'
export * from './dates.js'
export * from './usage.js'
export { CHAT_PHASES } from './events.js'
export type * from './events.js'
