/** The benchmark graph: csv.read → filter → map → inner join with cost centers → sql.write (SQLite). */
export type GraphVariant = 'jsonata' | 'trivial'

export function benchGraph(
  variant: GraphVariant,
  paths: { people: string; costCenters: string; database: string },
  workers: 'auto' | number,
): unknown {
  const expressions =
    variant === 'jsonata'
      ? {
          filter: '$number(salary) >= 50000',
          map: '{ "uid": $lowercase(first & "." & last & "." & id), "mail": $lowercase(first & "." & last) & "@example.com", "dept": department, "cost_center": cost_center, "salary": $number(salary) }',
        }
      : {
          // Salaries are five-digit strings, so a text comparison keeps the same rows without a function call.
          filter: 'salary >= "50000"',
          map: '{ "uid": id, "mail": first, "dept": department, "cost_center": cost_center, "salary": salary }',
        }
  return {
    syncgraph: 1,
    name: `Benchmark (${variant} expressions)`,
    settings: { workers },
    nodes: [
      { id: 'people', type: 'csv.read', config: { path: paths.people } },
      { id: 'centers', type: 'csv.read', config: { path: paths.costCenters } },
      { id: 'wellPaid', type: 'filter', config: { expression: expressions.filter } },
      { id: 'account', type: 'map', config: { expression: expressions.map } },
      {
        id: 'withCenter',
        type: 'join',
        config: { type: 'inner', on: [{ left: 'cost_center', right: 'cost_center' }] },
      },
      {
        id: 'store',
        type: 'sql.write',
        config: {
          connection: { driver: 'sqlite', path: paths.database },
          table: 'people',
          mode: 'insert',
          createTable: true,
        },
      },
    ],
    edges: [
      { from: 'people', to: 'wellPaid' },
      { from: 'wellPaid', to: 'account' },
      { from: 'account', to: 'withCenter', toPort: 'left' },
      { from: 'centers', to: 'withCenter', toPort: 'right' },
      { from: 'withCenter', to: 'store' },
    ],
  }
}
