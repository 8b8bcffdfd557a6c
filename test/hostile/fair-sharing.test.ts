/**
 * A container's request budget cannot be drained by forged traffic from a dozen addresses
 * (docs/security.md): each address takes at most 1/20 of it, so a visitor sending a beacon a
 * second is always answered.
 */
import { describe, expect, it } from 'vitest'
import { ORIGIN, batch, impression, nextId, setup, testConfig } from '../../apps/collector/src/testkit.js'

describe('a container budget under a flood from twelve addresses', () => {
  it("answers every one of a real visitor's 40 requests, and still limits the flood", async () => {
    const s = setup({
      config: testConfig({ server: { rateLimits: { perIp: { rate: 1e9, burst: 1e9 }, perContainer: { rate: 20, burst: 40 } }, sessionsPerHour: 1e6 } }),
    })
    const from = async (remote: string) =>
      (
        await s.app.request(
          '/v1/containers/ctr_shop/events',
          { method: 'POST', headers: { origin: ORIGIN }, body: JSON.stringify(batch([impression('cmp_summer', nextId('s'))], s.clock.now())) },
          { incoming: { socket: { remoteAddress: remote } } },
        )
      ).status
    const visitor: number[] = []
    let floodServed = 0
    let floodSent = 0
    // 40 seconds: each forged address sends 10 requests a second, the visitor one.
    for (let second = 0; second < 40; second++) {
      for (let tick = 0; tick < 10; tick++) {
        for (let a = 1; a <= 12; a++) {
          floodSent++
          if ((await from(`198.51.100.${a}`)) === 200) floodServed++
        }
        if (tick === 5) visitor.push(await from('203.0.113.50'))
        s.clock.advance(100)
      }
    }
    expect(visitor.filter((x) => x === 429)).toHaveLength(0)
    // The flood still gets no more than the container's budget: 40 s at 20/s plus the burst.
    expect(floodServed).toBeLessThanOrEqual(20 * 40 + 40)
    expect(floodServed).toBeLessThan(floodSent / 4)
  }, 60_000)
})
