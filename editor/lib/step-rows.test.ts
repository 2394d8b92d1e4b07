import { describe, expect, it } from 'vitest'
import { stepRows } from './step-rows.ts'

describe('stepRows', () => {
  it('counts what sources emitted and what writers and syncs took in', () => {
    expect(
      stepRows({
        hr: { type: 'csv.read', rowsIn: 0, rowsOut: 100 },
        depts: { type: 'csv.read', rowsIn: 0, rowsOut: 5 },
        active: { type: 'filter', rowsIn: 100, rowsOut: 80 },
        join: { type: 'join', rowsIn: 85, rowsOut: 80 },
        out: { type: 'csv.write', rowsIn: 80, rowsOut: 0 },
        dir: { type: 'ldap.sync', rowsIn: 80, rowsOut: 80 },
      }),
    ).toEqual({ read: 105, written: 160 })
  })

  it('is zero for a run that did nothing', () => {
    expect(stepRows({})).toEqual({ read: 0, written: 0 })
  })
})
