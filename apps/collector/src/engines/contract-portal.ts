/**
 * The repository contract's portal part (portal sessions and account facts), run by
 * `describeRepository` (./contract.ts) on each engine's database.
 */
import { describe, expect, it } from 'vitest'
import type { Engine, Repository } from './repository.js'
import { T } from './contract-fixtures.js'

export function describePortalContract(current: () => Engine): void {
  const engine: Pick<Engine, 'read' | 'transaction'> = { read: (fn) => current().read(fn), transaction: (fn) => current().transaction(fn) }
  const tx = <R>(fn: (r: Repository) => Promise<R>): Promise<R> => engine.transaction(fn)

  describe('portal sessions and account facts', () => {
    const session = (id: string, expiresAt = T + 3_600_000) => ({
      id,
      session: null,
      member: 'alice',
      returnUrl: 'https://app.acme.test/billing',
      createdAt: T,
      expiresAt,
      openedAt: null,
    })

    it('opens a link once, before it expires, and finds the session by its cookie digest', async () => {
      await tx((r) => r.insertPortalSession('acme', session('link1')))
      await tx((r) => r.insertPortalSession('acme', session('link2', T + 10)))
      expect(await tx((r) => r.openPortalLink('other', 'link1', 'cookie1', T + 1))).toBeNull()
      expect(await tx((r) => r.openPortalLink('acme', 'link1', 'cookie1', T + 1))).toEqual({ ...session('link1'), session: 'cookie1', openedAt: T + 1 })
      expect(await tx((r) => r.openPortalLink('acme', 'link1', 'cookie9', T + 2))).toBeNull()
      expect(await tx((r) => r.openPortalLink('acme', 'link2', 'cookie2', T + 10))).toBeNull()
      expect(await engine.read((r) => r.portalSession('acme', 'cookie1'))).toMatchObject({ id: 'link1', member: 'alice' })
      expect(await engine.read((r) => r.portalSession('acme', 'cookie9'))).toBeNull()
      expect(await engine.read((r) => r.portalSession('other', 'cookie1'))).toBeNull()
      expect(await tx((r) => r.prunePortalSessions('acme', T + 11))).toBe(1)
      expect(await engine.read((r) => r.portalSession('acme', 'cookie1'))).not.toBeNull()
    })

    it('keeps a fact once per kind and id, answers the stored one, and lists a kind oldest first', async () => {
      const f = (id: string, at: number, body: unknown) => ({ kind: 'payment' as const, id, at, body })
      expect(await tx((r) => r.insertFact('acme', f('b', T + 1, { status: 'failed' })))).toEqual({ fact: f('b', T + 1, { status: 'failed' }), created: true })
      expect(await tx((r) => r.insertFact('acme', f('b', T + 9, { status: 'paid' })))).toEqual({ fact: f('b', T + 1, { status: 'failed' }), created: false })
      await tx((r) => r.insertFact('acme', f('a', T + 2, { status: 'paid', nested: { x: [1, 2] } })))
      await tx((r) => r.insertFact('acme', { kind: 'billing_details', id: 'a', at: T, body: { company: 'Acme' } }))
      await tx((r) => r.insertFact('other', f('c', T, {})))
      expect((await engine.read((r) => r.facts('acme', 'payment'))).map((x) => x.id)).toEqual(['b', 'a'])
      expect(await engine.read((r) => r.fact('acme', 'payment', 'a'))).toEqual(f('a', T + 2, { status: 'paid', nested: { x: [1, 2] } }))
      expect(await engine.read((r) => r.fact('acme', 'portal_action', 'a'))).toBeNull()
    })
  })
}
