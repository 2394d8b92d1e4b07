import { describe, expect, it } from 'vitest'
import { applyItems, plannedRows } from './apply.ts'
import { countOutcomes } from './outcomes.ts'
import { computePlan, diffValues, withPlannedFailures, type Comparison, type PlanInput } from './plan.ts'
import type { PlanItem } from './types.ts'

const caseless: Comparison = {
  normalize: (_a, v) => String(v).trim().toLowerCase(),
  multiValued: (a) =>
    a === 'mail' || a === 'member' ? true : a === 'title' || a === 'uid' ? false : undefined,
}

function plan(overrides: Partial<PlanInput>) {
  return computePlan({
    nodeId: 'sync',
    type: 'test.sync',
    target: {},
    sources: [],
    targets: [],
    key: [{ source: 'id', target: 'uid' }],
    attributes: { title: {}, mail: { source: 'email' } },
    create: true,
    update: true,
    deprovision: { action: 'none' },
    comparison: caseless,
    now: new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  })
}

const compact = (items: PlanItem[]) =>
  items.map(
    (i) =>
      `${i.action} ${i.dn}${i.newDn ? ` -> ${i.newDn}` : ''} ${JSON.stringify(i.changes)}${i.reason ? ` (${i.reason})` : ''}`,
  )

describe('computePlan', () => {
  it('links exactly one match, creates the missing, compares normalised, reports ambiguity and bad keys', () => {
    const p = plan({
      sources: [
        { id: 'a1', title: 'Engineer', email: ['a@x.org'] },
        { id: 'B2', title: 'Boss', email: 'b@x.org' },
        { id: 'c3', title: 'New', email: ['c@x.org', 'c2@x.org'] },
        { id: 'd4', title: 'Twice' },
        { id: '', title: 'No key' },
        { id: 42, title: 'Number key' },
      ],
      targets: [
        { id: 'uid=a1', attributes: { uid: 'a1', title: ' ENGINEER', mail: ['A@X.org'] } },
        { id: 'uid=b2', attributes: { uid: 'b2', title: 'Clerk', mail: ['b@x.org'] } },
        { id: 'uid=d4', attributes: { uid: 'd4' } },
        { id: 'uid=d4bis', attributes: { UID: 'D4' } },
        { id: 'uid=42', attributes: { uid: '42', title: 'Number key' } },
        { id: 'uid=gone', attributes: { uid: 'gone' } },
      ],
    })
    expect(compact(p.items)).toMatchInlineSnapshot(`
      [
        "none uid=a1 []",
        "update uid=b2 [{"attribute":"title","op":"replace","values":["Boss"]}]",
        "create  [{"attribute":"title","op":"add","values":["New"]},{"attribute":"mail","op":"add","values":["c@x.org","c2@x.org"]},{"attribute":"uid","op":"add","values":["c3"]}]",
        "ambiguous  [] (2 objects in scope match this key: uid=d4; uid=d4bis)",
        "error  [] (key field "id" is empty)",
        "none uid=42 []",
        "none uid=gone [] (not in the source; deprovision is none)",
      ]
    `)
    expect(p.counts).toMatchInlineSnapshot(`
      {
        "ambiguous": 1,
        "create": 1,
        "delete": 0,
        "disable": 0,
        "error": 1,
        "move": 0,
        "none": 3,
        "rename": 0,
        "update": 1,
      }
    `)
    expect(p.items.find((i) => i.action === 'ambiguous')?.matches).toEqual(['uid=d4', 'uid=d4bis'])
  })

  it('honours createOnly, ifEmpty and empty = keep | clear', () => {
    const p = plan({
      attributes: {
        title: { flow: 'createOnly' },
        description: { flow: 'ifEmpty' },
        mail: { source: 'email', empty: 'keep' },
        phone: { empty: 'clear' },
      },
      sources: [
        { id: 'a', title: 'T2', description: 'D2', email: null, phone: '' },
        { id: 'b', title: 'T', description: 'D', email: 'b@x', phone: '1' },
      ],
      targets: [
        { id: 'uid=a', attributes: { uid: 'a', title: 'T1', description: 'D1', mail: 'a@x', phone: '555' } },
      ],
    })
    expect(compact(p.items)).toMatchInlineSnapshot(`
      [
        "update uid=a [{"attribute":"phone","op":"delete","values":[]}]",
        "create  [{"attribute":"title","op":"add","values":["T"]},{"attribute":"description","op":"add","values":["D"]},{"attribute":"mail","op":"add","values":["b@x"]},{"attribute":"phone","op":"add","values":["1"]},{"attribute":"uid","op":"add","values":["b"]}]",
      ]
    `)
  })

  it('changes multi-valued attributes by value: one new member of 5,000 is one add', () => {
    const members = Array.from({ length: 5000 }, (_, i) => `uid=u${i},ou=People`)
    const p = plan({
      key: [{ source: 'cn', target: 'cn' }],
      attributes: { member: {} },
      sources: [{ cn: 'big', member: [...members, 'uid=new,ou=People'].reverse() }],
      targets: [{ id: 'cn=big', attributes: { cn: 'big', member: members } }],
    })
    expect(p.items[0]!.action).toBe('update')
    expect(p.items[0]!.changes).toEqual([{ attribute: 'member', op: 'add', values: ['uid=new,ou=People'] }])
  })

  it('prefers a replace when it sends fewer values', () => {
    const norm = (_a: string, v: unknown) => String(v)
    expect(diffValues('m', ['a', 'b', 'c'], ['x'], 'clear', true, norm)).toEqual([
      { attribute: 'm', op: 'replace', values: ['x'] },
    ])
    expect(diffValues('m', ['a', 'b', 'c'], ['a', 'b', 'd'], 'clear', true, norm)).toEqual([
      { attribute: 'm', op: 'delete', values: ['c'] },
      { attribute: 'm', op: 'add', values: ['d'] },
    ])
    expect(diffValues('n', ['1'], [1], 'clear', false, norm)).toEqual([])
  })

  it('matches on a composite key', () => {
    const p = plan({
      key: [
        { source: 'first', target: 'givenName' },
        { source: 'last', target: 'sn' },
      ],
      attributes: { title: {} },
      sources: [{ first: 'Ann', last: 'Lee', title: 'X' }],
      targets: [
        { id: 'cn=1', attributes: { givenName: 'Ann', sn: 'Smith', title: 'X' } },
        { id: 'cn=2', attributes: { givenName: 'ann', sn: 'LEE', title: 'Y' } },
      ],
    })
    expect(compact(p.items)).toMatchInlineSnapshot(`
      [
        "update cn=2 [{"attribute":"title","op":"replace","values":["X"]}]",
        "none cn=1 [] (not in the source; deprovision is none)",
      ]
    `)
  })

  it('writes the key on create whatever the flow lists, so a re-run plans nothing (issue 12)', () => {
    const key = [
      { source: 'emp', target: 'employeeNumber' },
      { source: 'co', target: 'company' },
    ]
    const sources = [{ emp: 'e1', co: 'ACME', title: 'X' }]
    const first = plan({ key, attributes: { title: {} }, sources })
    expect(first.items.map((i) => [i.action, i.after])).toEqual([
      ['create', { title: ['X'], employeeNumber: ['e1'], company: ['ACME'] }],
    ])
    // The object as apply creates it is found by the next run: nothing to do.
    const created = { id: 'cn=e1', attributes: Object.fromEntries(Object.entries(first.items[0]!.after!)) }
    const again = plan({ key, attributes: { title: {} }, sources, targets: [created] })
    expect(again.counts).toMatchObject({ create: 0, update: 0, none: 1 })
  })

  it('refuses a create whose flow gives a single-valued key attribute another value', () => {
    const p = plan({
      key: [{ source: 'id', target: 'uid' }],
      attributes: { uid: { source: 'login' } },
      sources: [
        { id: 'a1', login: 'ann' },
        { id: 'b2', login: 'b2' },
      ],
    })
    expect(compact(p.items)).toMatchInlineSnapshot(`
      [
        "error  [] (the key writes "id" into uid, but the attribute flow gives it other values ("ann", "a1"); uid holds one value)",
        "create  [{"attribute":"uid","op":"add","values":["b2"]}]",
      ]
    `)
  })

  it('turns items apply would fail on into planned failures, recounted', () => {
    const p = plan({ sources: [{ id: 'a' }, { id: 'b' }], attributes: {} })
    const failed = withPlannedFailures(
      p,
      new Map([[p.items[1]!, { code: 'LDAP_OBJECT_CLASS_VIOLATION', reason: 'object class requires sn' }]]),
    )
    expect(compact(failed.items)).toEqual([
      'create  [{"attribute":"uid","op":"add","values":["a"]}]',
      'error  [] (object class requires sn)',
    ])
    expect(failed.items[1]).toMatchObject({ after: { uid: ['b'] }, code: 'LDAP_OBJECT_CLASS_VIOLATION' })
    expect(failed.counts).toMatchObject({ create: 1, error: 1 })
    expect(withPlannedFailures(p, new Map())).toBe(p)
  })

  it('de-provisions what no source row matches, and checks the thresholds on the plan', () => {
    const targets = Array.from({ length: 10 }, (_, i) => ({ id: `uid=t${i}`, attributes: { uid: `t${i}` } }))
    const sources = targets.slice(0, 7).map((t) => ({ id: t.attributes.uid }))
    const del = plan({ sources, targets, attributes: {}, deprovision: { action: 'delete' }, maxDeletes: 2 })
    expect(del.counts.delete).toBe(3)
    expect(del.thresholds).toMatchInlineSnapshot(`
      {
        "exceeded": true,
        "maxDeletePercent": null,
        "maxDeletes": 2,
        "message": "the plan de-provisions (deletes, disables or moves) 3 of 10 objects in scope (30%), more than maxDeletes 2; nothing was written",
        "percent": 30,
        "removals": 3,
        "scopeSize": 10,
      }
    `)
    const disable = plan({
      sources,
      targets: targets.map((t, i) =>
        i === 9 ? { ...t, attributes: { ...t.attributes, title: 'DISABLED' } } : t,
      ),
      attributes: {},
      deprovision: { action: 'disable', attributes: { title: ['disabled'] } },
      maxDeletePercent: 25,
    })
    expect(compact(disable.items.slice(7))).toMatchInlineSnapshot(`
      [
        "disable uid=t7 [{"attribute":"title","op":"replace","values":["disabled"]}]",
        "disable uid=t8 [{"attribute":"title","op":"replace","values":["disabled"]}]",
        "none uid=t9 [] (not in the source; already disabled)",
      ]
    `)
    expect(disable.thresholds.exceeded).toBe(false)
    expect(disable.thresholds.removals).toBe(2)
  })

  it('renames and moves when the wanted id differs, and de-provisions by moving', () => {
    const parentOf = (id: string) => id.split(',').slice(1).join(',')
    const p = plan({
      naming: {
        idFor: (row) => `cn=${String(row.cn)},${String(row.ou)}`,
        sameId: (a, b) => a.toLowerCase() === b.toLowerCase(),
        changeKind: (from, to) =>
          parentOf(from).toLowerCase() === parentOf(to).toLowerCase() ? 'rename' : 'move',
        impliedAttributes: (id) => ({ cn: [id.split(',')[0]!.slice(3)] }),
        moveTo: (id, container) => `${id.split(',')[0]},${container}`,
      },
      attributes: { cn: {}, title: {} },
      deprovision: { action: 'move', container: 'ou=old' },
      sources: [
        { id: 'a', cn: 'Ann', ou: 'ou=p', title: 'T' },
        { id: 'b', cn: 'Bob', ou: 'ou=q', title: 'T' },
        { id: 'c', cn: 'Cy', ou: 'ou=p', title: 'T' },
      ],
      targets: [
        { id: 'cn=Anne,ou=p', attributes: { uid: 'a', cn: 'Anne', title: 'T' } },
        { id: 'cn=Bob,ou=p', attributes: { uid: 'b', cn: 'Bob', title: 'T' } },
        { id: 'cn=CY,ou=P', attributes: { uid: 'c', cn: 'CY', title: 'T' } },
        { id: 'cn=Dee,ou=p', attributes: { uid: 'd', cn: 'Dee' } },
        { id: 'cn=Eve,ou=old', attributes: { uid: 'e', cn: 'Eve' } },
      ],
    })
    expect(compact(p.items)).toMatchInlineSnapshot(`
      [
        "rename cn=Anne,ou=p -> cn=Ann,ou=p []",
        "move cn=Bob,ou=p -> cn=Bob,ou=q []",
        "none cn=CY,ou=P []",
        "move cn=Dee,ou=p -> cn=Dee,ou=old []",
        "none cn=Eve,ou=old [] (not in the source; already moved)",
      ]
    `)
  })
})

describe('applyItems', () => {
  it('writes what changes, records one failure and goes on', async () => {
    const p = plan({
      sources: [
        { id: 'a', title: 'x' },
        { id: 'b', title: 'y' },
        { id: 'c', title: 'z' },
      ],
      targets: [{ id: 'uid=c', attributes: { uid: 'c', title: 'z' } }],
      naming: {
        idFor: (row) => `uid=${String(row.id)}`,
        sameId: (a, b) => a === b,
        changeKind: () => 'rename',
      },
    })
    const written: string[] = []
    const rows = []
    for await (const chunk of applyItems(
      p,
      async (item) => {
        if (item.dn === 'uid=b')
          throw Object.assign(new Error('already exists'), { code: 'LDAP_ALREADY_EXISTS' })
        written.push(item.dn)
      },
      { concurrency: 2 },
    )) {
      rows.push(...chunk)
    }
    expect(written).toEqual(['uid=a'])
    expect(rows.map((r) => [r.dn, r.action, r.outcome, r.error?.code ?? null])).toEqual([
      ['uid=a', 'create', 'applied', null],
      ['uid=b', 'create', 'failed', 'LDAP_ALREADY_EXISTS'],
      ['uid=c', 'none', 'unchanged', null],
    ])
    expect(plannedRows(p).map((r) => r.outcome)).toEqual(['planned', 'planned', 'unchanged'])
  })
})

describe('applyItems outcomes', () => {
  const named = {
    idFor: (row: Record<string, unknown>) => `uid=${String(row.id)}`,
    sameId: (a: string, b: string) => a === b,
    changeKind: () => 'rename' as const,
  }

  it('fails an ambiguous or planned-failure item, and counts one outcome per object (issue 12)', async () => {
    const p = plan({
      sources: [{ id: 'a', title: 'x' }, { id: 'd' }, { id: 'c', title: 'new' }, { id: '' }],
      targets: [
        { id: 'uid=c', attributes: { uid: 'c', title: 'old' } },
        { id: 'uid=d', attributes: { uid: 'd' } },
        { id: 'uid=d2', attributes: { uid: 'd' } },
        { id: 'uid=gone', attributes: { uid: 'gone' } },
      ],
      deprovision: { action: 'delete' },
      naming: named,
    })
    const rows = []
    for await (const chunk of applyItems(p, async () => undefined, { concurrency: 2 })) rows.push(...chunk)
    expect(rows.map((r) => [r.action, r.outcome, r.error?.code ?? null])).toEqual([
      ['create', 'applied', null],
      ['ambiguous', 'failed', 'AMBIGUOUS'],
      ['update', 'applied', null],
      ['error', 'failed', 'PLAN_ERROR'],
      ['delete', 'applied', null],
    ])
    expect(countOutcomes(rows)).toEqual({ created: 1, updated: 1, deleted: 1, failed: 2 })
  })

  it('with halt, starts no write after the first failure; the writes in flight settle and are yielded', async () => {
    const p = plan({
      sources: Array.from({ length: 10 }, (_, i) => ({ id: `u${i}`, title: 't' })),
      naming: named,
    })
    const started: string[] = []
    const rows = []
    for await (const chunk of applyItems(
      p,
      async (item) => {
        started.push(item.dn)
        await new Promise((r) => setTimeout(r, item.dn === 'uid=u1' ? 1 : 5))
        if (item.dn === 'uid=u1')
          throw Object.assign(new Error('no'), { code: 'LDAP_OBJECT_CLASS_VIOLATION' })
      },
      { concurrency: 3, chunk: 4, sliding: true, halt: true },
    )) {
      rows.push(...chunk)
    }
    expect(started).toEqual(['uid=u0', 'uid=u1', 'uid=u2'])
    expect(rows.map((r) => [r.dn, r.outcome])).toEqual([
      ['uid=u0', 'applied'],
      ['uid=u1', 'failed'],
      ['uid=u2', 'applied'],
    ])
  })
})

describe('applyItems windows', () => {
  const many = (n: number) =>
    plan({
      sources: Array.from({ length: n }, (_, i) => ({ id: `u${i}`, title: 't' })),
      naming: {
        idFor: (row) => `uid=${String(row.id)}`,
        sameId: (a, b) => a === b,
        changeKind: () => 'rename',
      },
    })

  it('by default starts no write of the next chunk before the chunk is yielded (a caller may commit)', async () => {
    const started: number[] = []
    const atYield: number[] = []
    for await (const rows of applyItems(
      many(10),
      async (item) => {
        started.push(Number(item.dn.slice(5)))
        await Promise.resolve()
      },
      { concurrency: 3, chunk: 4 },
    )) {
      atYield.push(started.length)
      expect(rows.every((r) => r.outcome === 'applied')).toBe(true)
    }
    expect(atYield).toEqual([4, 8, 10])
  })

  it('with sliding, keeps writing past a slow write and still yields rows in plan order', async () => {
    let release: () => void = () => undefined
    const slow = new Promise<void>((resolve) => (release = resolve))
    const started: string[] = []
    const chunks: string[][] = []
    const gen = applyItems(
      many(10),
      async (item) => {
        started.push(item.dn)
        if (item.dn === 'uid=u1') await slow
      },
      { concurrency: 4, chunk: 2, sliding: true },
    )
    const first = gen.next()
    // u1 holds the first chunk back, but the next chunk's writes go on (two chunks from the first unsettled).
    await new Promise((r) => setTimeout(r, 0))
    expect(started).toEqual(['uid=u0', 'uid=u1', 'uid=u2', 'uid=u3'])
    release()
    chunks.push((await first).value!.map((r) => r.dn))
    for await (const rows of gen) chunks.push(rows.map((r) => r.dn))
    expect(chunks.flat()).toEqual(Array.from({ length: 10 }, (_, i) => `uid=u${i}`))
    expect(chunks.map((c) => c.length)).toEqual([2, 2, 2, 2, 2])
  })
})
