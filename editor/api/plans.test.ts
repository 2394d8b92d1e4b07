import { describe, expect, it } from 'vitest'
import { planSearch, plansApi } from './plans.ts'

describe('plan queries', () => {
  it('sends the filters and the page, and asks the CSV export for every matching entry', () => {
    expect(planSearch({})).toBe('')
    expect(planSearch({ actions: ['create', 'delete'], q: 'uid=a b', offset: 50, limit: 50 })).toBe(
      '?action=create%2Cdelete&q=uid%3Da+b&offset=50&limit=50',
    )
    expect(planSearch({ nodeId: 'dir', actions: [], q: '', offset: 0, limit: 50 })).toBe(
      '?nodeId=dir&limit=50',
    )
    expect(planSearch({ actions: ['update'], offset: 100, limit: 50 }, 'csv')).toBe(
      '?action=update&format=csv&limit=100000',
    )
  })

  it('exports the plan of a run or of an approval request', () => {
    expect(plansApi.csvUrl({ kind: 'run', runId: 'r 1' }, { q: 'x' })).toBe(
      '/api/runs/r%201/plan?q=x&format=csv&limit=100000',
    )
    expect(plansApi.csvUrl({ kind: 'approval', approvalId: 'a1' }, {})).toBe(
      '/api/approvals/a1/plan?format=csv&limit=100000',
    )
  })
})
