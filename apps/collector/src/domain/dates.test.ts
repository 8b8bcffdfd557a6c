import { describe, expect, it } from 'vitest'
import { parseIsoInstant } from './dates.js'

describe('parseIsoInstant', () => {
  it.each([
    ['2026-07-12', Date.UTC(2026, 6, 12)],
    ['2026-07-12T10:30Z', Date.UTC(2026, 6, 12, 10, 30)],
    ['2026-07-12T10:30:15.250+02:00', Date.UTC(2026, 6, 12, 8, 30, 15, 250)],
    ['2028-02-29T00:00:00Z', Date.UTC(2028, 1, 29)],
  ])('reads %s', (text, ms) => {
    expect(parseIsoInstant(text)).toBe(ms)
  })

  it.each([
    ['a bare number', '1'],
    ['a month alone', '2026-12'],
    ['February 30', '2026-02-30'],
    ['February 29 of a common year', '2027-02-29'],
    ['a date-time without an offset', '2026-07-12T10:30'],
    ['words', 'yesterday'],
  ])('refuses %s', (_, text) => {
    expect(parseIsoInstant(text)).toBeNaN()
  })
})
