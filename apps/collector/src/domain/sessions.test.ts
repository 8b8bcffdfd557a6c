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

  it('keeps a session that is seen again admitted while the gate turns over', () => {
    // 10 entries a generation: every fifth new address drops the older generation.
    const gate = createSessionGate(2, manualClock(T0), 10)
    gate.admit('c', 'a', ['s1', 's2'])
    for (let i = 0; i < 200; i++) {
      gate.admit('c', `b${i}`, [`t${i}`])
      expect(gate.admit('c', 'a', ['s1']).size).toBe(0)
      // s1 is carried with its count: the address stays at its cap while it is held.
      if (i < 3) expect(gate.admit('c', 'a', ['s3']).size).toBe(1)
    }
  })

  it('counts apart two session ids that an unkeyed 30-bit hash confuses', () => {
    // The ids a client could search offline so that a new session passes as one already admitted.
    const fnv30 = (x: string) => {
      let h = 0x811c9dc5
      for (let i = 0; i < x.length; i++) h = Math.imul(h ^ x.charCodeAt(i), 0x01000193)
      return h >>> 2
    }
    const seen = new Map<number, string>()
    let pair: [string, string] | undefined
    for (let i = 0; !pair; i++) {
      const id = `s${i}`
      const other = seen.get(fnv30(id))
      if (other) pair = [other, id]
      seen.set(fnv30(id), id)
    }
    const gate = createSessionGate(1, manualClock(T0))
    expect(gate.admit('c', 'a', [pair[0]]).size).toBe(0)
    expect([...gate.admit('c', 'a', [pair[1]])]).toEqual([pair[1]])
  })

  it('holds each of many addresses to the cap', () => {
    const gate = createSessionGate(3, manualClock(T0))
    let over = 0
    for (let a = 0; a < 5_000; a++) over += gate.admit('c', `10.0.${a >> 8}.${a & 255}`, ['1', '2', '3', '4', '5']).size
    expect(over).toBe(2 * 5_000)
  })

  it('holds a fixed 12 MiB, however many sessions it sees', () => {
    const gate = createSessionGate(500, manualClock(T0))
    expect(gate.bytes).toBe(12 * 1024 * 1024)
    for (let a = 0; a < 2_000; a++)
      expect(
        gate.admit(
          'c',
          `a${a}`,
          Array.from({ length: 500 }, (_, i) => `s${i}`),
        ).size,
      ).toBe(0)
    expect(gate.bytes).toBe(12 * 1024 * 1024)
    // A million sessions later the newest address is still held at its cap; the oldest was forgotten.
    expect(gate.admit('c', 'a1999', ['new']).size).toBe(1)
    expect(gate.admit('c', 'a0', ['new']).size).toBe(0)
  })

  it('never admits more than the cap of distinct sessions per address and hour', () => {
    fc.assert(
      fc.property(
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
      ),
    )
  })
})
