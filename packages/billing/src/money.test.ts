import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { discountAmount, divHalfEven, grossAmount, lineAmount, roundHalfEven } from './money.js'

describe('half-even rounding', () => {
  it.each([
    [5, 2, 2],
    [7, 2, 4],
    [3, 2, 2],
    [1, 2, 0],
    [-1, 2, 0],
    [-3, 2, -2],
    [-5, 2, -2],
    [10, 4, 2],
    [14, 4, 4],
    [1, 3, 0],
    [2, 3, 1],
    [-2, 3, -1],
    [9, 1, 9],
    [0, 7, 0],
    [5, -2, -2],
  ])('rounds %i / %i to %i', (num, den, expected) => {
    expect(roundHalfEven(num, den)).toBe(expected)
  })

  it('rounds to the nearest integer, ties to the even one', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.bigInt({ min: 1n, max: 10n ** 6n }), (num, den) => {
        const q = divHalfEven(num, den)
        const diff = 2n * (num - q * den) // twice the remainder: within [-den, den]
        expect(diff <= den && diff >= -den).toBe(true)
        if (diff === den || diff === -den) expect(q % 2n).toBe(0n)
      }),
    )
  })
})

describe('line amounts', () => {
  it.each([
    ['a monthly base price', { quantity: 1, unitPrice: 4900, months: 1, discountPercent: 0 }, 4900],
    ['a quarter less 5%', { quantity: 1, unitPrice: 4900, months: 3, discountPercent: 5 }, 13965],
    ['three seats for a year less 20%', { quantity: 3, unitPrice: 1500, months: 12, discountPercent: 20 }, 43200],
    ['a discount with a decimal', { quantity: 1, unitPrice: 999, months: 1, discountPercent: 7.5 }, 924], // 924.075
    ['a tie rounded down to even', { quantity: 1, unitPrice: 1, months: 1, discountPercent: 50 }, 0], // 0.5
    ['a tie rounded up to even', { quantity: 3, unitPrice: 1, months: 1, discountPercent: 50 }, 2], // 1.5
    ['21 of 31 days', { quantity: 1, unitPrice: 9900, months: 1, discountPercent: 0, proration: { days: 21, of: 31 } }, 6706],
    ['a credit of unused time', { quantity: -3, unitPrice: 1500, months: 1, discountPercent: 0, proration: { days: 21, of: 31 } }, -3048],
  ])('prices %s once, exactly', (_, line, amount) => {
    expect(lineAmount(line)).toBe(amount)
  })
})

describe('discount amounts', () => {
  it.each([
    ['a quarter less 5%', { quantity: 1, unitPrice: 4900, months: 3, discountPercent: 5 }, 14700, 735],
    ['a prorated year less 20%', { quantity: 1, unitPrice: 2900, months: 12, discountPercent: 20, proration: { days: 284, of: 365 } }, 27077, 5415],
    ['a credit of unused time less 10%', { quantity: -2, unitPrice: 1500, months: 6, discountPercent: 10, proration: { days: 40, of: 184 } }, -3913, -391],
    ['no discount', { quantity: 3, unitPrice: 1500, months: 1, discountPercent: 0, proration: { days: 21, of: 31 } }, 3048, 0],
  ])('gives %s a gross and a discount that take it to its amount', (_, line, gross, discount) => {
    expect([grossAmount(line), discountAmount(line)]).toEqual([gross, discount])
    expect(grossAmount(line) - discountAmount(line)).toBe(lineAmount(line))
  })

  it('keeps the discount amount within one minor unit of the exact percentage of the gross', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 5 }),
        fc.nat(100_000),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 366 }).chain((of) => fc.tuple(fc.integer({ min: 0, max: of }), fc.constant(of))),
        (quantity, unitPrice, months, tenths, [days, of]) => {
          const line = { quantity, unitPrice, months, discountPercent: tenths / 10, proration: { days, of } }
          // |discount - q x u x m x days/of x tenths/1000| <= 1, in integers
          const off = BigInt(discountAmount(line)) * BigInt(of) * 1000n - BigInt(quantity * unitPrice * months * days) * BigInt(tenths)
          expect(off <= BigInt(of) * 1000n && off >= -BigInt(of) * 1000n).toBe(true)
        },
      ),
    )
  })
})
