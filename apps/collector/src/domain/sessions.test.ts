import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { manualClock } from './clock.js'
import { createSessionGate } from './sessions.js'

const T0 = Date.UTC(2026, 6, 20, 12, 0, 0)

describe('the session gate', () => {
  it('admits the first sessions of an address up to the cap and flags the rest', () => {
    const gate = createSessionGate(3, manualClock(T0))
    expect([...gate.admit('c', 'a', ['s1', 's2'])]).toEqual([])
    expect([...gate.admit('c', 'a', ['s3', 's4', 's5'])]).toEqual(['s4', 's5'])
  })

  it('keeps an admitted session admitted for the rest of the hour, whatever came after it', () => {
    const gate = createSessionGate(2, manualClock(T0))
    gate.admit('c', 'a', ['s1', 's2'])
    expect([...gate.admit('c', 'a', ['s3'])]).toEqual(['s3'])
    expect([...gate.admit('c', 'a', ['s1', 's2'])]).toEqual([])
  })

  it('counts each address and each container apart', () => {
    const gate = createSessionGate(1, manualClock(T0))
    expect(gate.admit('c', 'a', ['s1']).size).toBe(0)
    expect(gate.admit('c', 'b', ['s2']).size).toBe(0)
    expect(gate.admit('d', 'a', ['s3']).size).toBe(0)
    expect(gate.admit('c', 'a', ['s4']).size).toBe(1)
  })

  it('starts afresh in the next clock hour', () => {
    const clock = manualClock(T0)
    const gate = createSessionGate(1, clock)
    gate.admit('c', 'a', ['s1'])
    expect(gate.admit('c', 'a', ['s2']).size).toBe(1)
    clock.advance(3_600_000)
    expect(gate.admit('c', 'a', ['s2']).size).toBe(0)
  })

  it('forgets the oldest addresses past its memory bound, which only ever admits more', () => {
    const gate = createSessionGate(1, manualClock(T0), 10)
    for (let i = 0; i < 100; i++) gate.admit('c', `a${i}`, [`s${i}`])
    // a0 was forgotten: a new session of it is admitted again, never refused wrongly.
    expect(gate.admit('c', 'a0', ['other']).size).toBe(0)
    // The newest address is still held.
    expect(gate.admit('c', 'a99', ['other']).size).toBe(1)
  })

  it('never admits more than the cap of distinct sessions per address and hour', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.array(fc.stringMatching(/^s[0-9]{1,2}$/), { maxLength: 10 }), { maxLength: 30 }),
      (cap, beacons) => {
        const gate = createSessionGate(cap, manualClock(T0))
        const admitted = new Set<string>()
        for (const b of beacons) {
          const over = gate.admit('c', 'a', b)
          for (const s of b) if (!over.has(s)) admitted.add(s)
        }
        const distinct = new Set(beacons.flat())
        expect(admitted.size).toBe(Math.min(cap, distinct.size))
      },
    ))
  })
})
