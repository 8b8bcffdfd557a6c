/** Time is injected so that tests travel in time (docs/architecture.md). */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock that moves only when told to. */
export function manualClock(start: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let t = start
  return {
    now: () => t,
    set: (ms) => {
      t = ms
    },
    advance: (ms) => {
      t += ms
    },
  }
}
