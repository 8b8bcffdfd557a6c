import { describe, expect, it } from 'vitest'
import { rejectionSpikes } from './rejection-spike.js'

const T = Date.UTC(2026, 6, 20, 12, 0, 0)

describe('refusal spikes', () => {
  it('reports the refusal that goes past the threshold, once a minute per account', () => {
    const s = rejectionSpikes()
    const seen = Array.from({ length: 6 }, (_, i) => s.count('acme', T + i, () => 3))
    expect(seen).toEqual([null, null, null, { minute: T, refused: 4, threshold: 3 }, null, null])
    expect(s.count('other', T + 10, () => 0)).toEqual({ minute: T, refused: 1, threshold: 0 })
  })

  it('starts counting again in the next minute', () => {
    const s = rejectionSpikes()
    for (let i = 0; i < 3; i++) s.count('acme', T + 59_000, () => 3)
    expect(s.count('acme', T + 60_000, () => 3)).toBeNull()
    for (let i = 0; i < 2; i++) s.count('acme', T + 60_001, () => 3)
    expect(s.count('acme', T + 60_002, () => 3)).toEqual({ minute: T + 60_000, refused: 4, threshold: 3 })
  })
})
