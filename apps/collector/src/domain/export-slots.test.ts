import { describe, expect, it } from 'vitest'
import { createExportSlots } from './export-slots.js'

describe('export slots', () => {
  it('hold at most the per-account and the global number of exports, and free a slot once', () => {
    const slots = createExportSlots({ global: 3, perAccount: 2 })
    const a1 = slots.acquire('a')
    const a2 = slots.acquire('a')
    expect(a1 && a2).toBeTruthy()
    expect(slots.acquire('a')).toBeNull()
    const b1 = slots.acquire('b')
    expect(b1).toBeTruthy()
    expect(slots.acquire('c')).toBeNull()
    a1?.()
    a1?.()
    expect(slots.running).toBe(2)
    expect(slots.acquire('b')).toBeTruthy()
    expect(slots.acquire('a')).toBeNull()
  })
})
