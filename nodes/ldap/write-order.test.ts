import { describe, expect, it } from 'vitest'
import type { PlanItem, SyncAction } from '../../engine/sync/index.ts'
import { writeOrder } from './sync-driver.ts'

const item = (action: SyncAction, dn: string, newDn?: string): PlanItem => ({
  key: {},
  dn,
  ...(newDn === undefined ? {} : { newDn }),
  action,
  before: null,
  after: null,
  changes: [],
})

/** Send every item through the order with writes that finish only when told; log starts and ends. */
function harness(items: PlanItem[]) {
  const order = writeOrder(items)
  const log: string[] = []
  const finish = new Map<string, () => void>()
  const send = (i: PlanItem) => {
    log.push(`start ${i.newDn ?? i.dn}`)
    return new Promise<void>((resolve) =>
      finish.set(i.newDn ?? i.dn, () => {
        log.push(`end ${i.newDn ?? i.dn}`)
        resolve()
      }),
    )
  }
  const done = order === undefined ? [] : items.map((i) => order(i, send))
  return { order, log, done, finish: (dn: string) => finish.get(dn)!() }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('writeOrder (pipelined writes keep what the directory needs)', () => {
  it('adds nothing when no item depends on another', () => {
    const items = Array.from({ length: 100 }, (_, i) =>
      item('create', `uid=u${i},ou=People,dc=example,dc=com`),
    )
    expect(writeOrder(items)).toBeUndefined()
  })

  it('sends a child only after the earlier item creating its container (any DN spelling)', async () => {
    const h = harness([
      item('create', 'ou=New,dc=example,dc=com'),
      item('create', 'uid=a,OU=new, dc=example,dc=com'),
      item('create', 'uid=b,ou=People,dc=example,dc=com'),
      item('move', 'uid=c,ou=People,dc=example,dc=com', 'uid=c,ou=New,dc=example,dc=com'),
    ])
    expect(h.order).toBeDefined()
    await tick()
    expect(h.log).toEqual(['start ou=New,dc=example,dc=com', 'start uid=b,ou=People,dc=example,dc=com'])
    h.finish('ou=New,dc=example,dc=com')
    await tick()
    expect(h.log.slice(2)).toEqual([
      'end ou=New,dc=example,dc=com',
      'start uid=a,OU=new, dc=example,dc=com',
      'start uid=c,ou=New,dc=example,dc=com',
    ])
  })

  it('deletes a container only after the earlier deletes of its children', async () => {
    const h = harness([
      item('delete', 'uid=a,ou=Old,dc=example,dc=com'),
      item('delete', 'ou=Old,dc=example,dc=com'),
      item('delete', 'uid=z,ou=People,dc=example,dc=com'),
    ])
    await tick()
    expect(h.log).toEqual(['start uid=a,ou=Old,dc=example,dc=com', 'start uid=z,ou=People,dc=example,dc=com'])
    h.finish('uid=a,ou=Old,dc=example,dc=com')
    await tick()
    expect(h.log.slice(2)).toEqual(['end uid=a,ou=Old,dc=example,dc=com', 'start ou=Old,dc=example,dc=com'])
  })
})
