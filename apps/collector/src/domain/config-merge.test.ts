import { describe, expect, it } from 'vitest'
import { applyChanges, describeChange, diffPatch, fileChanges } from './config-merge.js'
import { mergePatch } from './merge-patch.js'

describe('diffPatch', () => {
  it('gives the merge patch that turns one object into the other, and nothing for equal ones', () => {
    const from = { a: 1, b: { c: 2, d: 3 }, list: [1, 2], gone: true }
    const to = { a: 1, b: { c: 4, d: 3 }, list: [1, 2, 3], added: { x: 1 } }
    const patch = diffPatch(from, to)
    expect(patch).toEqual({ b: { c: 4 }, list: [1, 2, 3], added: { x: 1 }, gone: null })
    expect(mergePatch(from, patch)).toEqual(to)
    expect(diffPatch({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBeUndefined()
  })
})

describe('fileChanges: what a file changed since it was last applied, merged into the database', () => {
  const acme = { name: 'Acme', subscription: { seats: 1 }, containers: { ctr: { domains: ['a.test'] } } }
  const base = { plans: { p: { price: 1 } }, accounts: { acme } }

  it('carries only the fields the file changed, and keeps what the database changed elsewhere', () => {
    const db = { plans: base.plans, accounts: { acme: { ...acme, subscription: { seats: 7 }, containers: {} } } }
    const file = { plans: base.plans, accounts: { acme: { ...acme, name: 'Acme B.V.' } } }
    expect(fileChanges(base, file, db)).toEqual([
      { kind: 'account', id: 'acme', before: db.accounts.acme, after: { name: 'Acme B.V.', subscription: { seats: 7 }, containers: {} } },
    ])
  })

  it('changes nothing when the file is as last applied, whatever the database holds', () => {
    const db = { plans: {}, accounts: { acme: { ...acme, name: 'changed by an admin' } } }
    expect(fileChanges(base, base, db)).toEqual([])
  })

  it('lets the file win on a field both changed, adds what the file added and removes what it removed', () => {
    const db = { plans: base.plans, accounts: { acme: { ...acme, name: 'admin' } } }
    const file = { plans: { q: { price: 2 } }, accounts: { acme: { ...acme, name: 'file' } } }
    const changes = fileChanges(base, file, db)
    expect(changes.map((c) => [c.kind, c.id, c.after])).toEqual([
      ['plan', 'p', null],
      ['plan', 'q', { price: 2 }],
      ['account', 'acme', { ...acme, name: 'file' }],
    ])
    expect(applyChanges(db, changes)).toEqual({ plans: { q: { price: 2 } }, accounts: { acme: { ...acme, name: 'file' } } })
  })

  it('seeds an empty database with the whole file when none was applied', () => {
    expect(fileChanges(null, base, { plans: {}, accounts: {} }).map((c) => [c.kind, c.id, c.before, c.after])).toEqual([
      ['plan', 'p', null, { price: 1 }],
      ['account', 'acme', null, acme],
    ])
  })
})

describe('describeChange', () => {
  it('prints one line per changed field, and one for a new or removed object', () => {
    expect(describeChange({ kind: 'account', id: 'acme', before: acmeOf(1, ['a.test']), after: acmeOf(3, ['b.test']) })).toEqual([
      '~ account acme subscription.seats: 1 -> 3',
      '~ account acme containers.ctr.domains: ["a.test"] -> ["b.test"]',
    ])
    expect(describeChange({ kind: 'plan', id: 'p', before: null, after: {} })).toEqual(['+ plan p (new)'])
    expect(describeChange({ kind: 'plan', id: 'p', before: {}, after: null })).toEqual(['- plan p (removed)'])
  })
})

function acmeOf(seats: number, domains: string[]) {
  return { subscription: { seats }, containers: { ctr: { domains } } }
}
