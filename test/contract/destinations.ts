import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Row } from '../../engine/index.ts'
import { slapdMissing, startSlapd } from '../ldap/slapd.ts'
import { open, testDatabase, uniqueTable } from '../sql/services.ts'
import type { DatabaseKind } from '../databases.ts'
import { instanceDir, type Destination, type DestinationInstance, type NodeSpec } from './harness.ts'

/**
 * The destinations of the contract suite. What each one does where destinations differ is stated in
 * its `contract` and in docs/DESTINATIONS.md; keep the two in step.
 */

const textOrEmpty = (v: unknown) => (v === null || v === undefined ? '' : String(v))

/** CSV: every value comes back as text, null as an empty cell (''); a run replaces the file. */
export const csvDestination: Destination = {
  name: 'CSV (csv.write → csv.read)',
  async start() {
    const { dir, remove } = await instanceDir('csv')
    return {
      dir,
      async target(label) {
        const path = `${label}.csv`
        return {
          writer: () => ({ type: 'csv.write', config: { path } }),
          reader: () => ({ type: 'csv.read', config: { path } }),
        }
      },
      stop: remove,
    }
  },
  contract: {
    expected: (row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, textOrEmpty(v)])),
    normalize: (row) => row,
    rewrite: 'replace',
    atomicity: 'run',
    // A field the first row did not have: csv.write's columns are fixed by the first row.
    badRow: (id) => ({
      row: { id, name: 'x', note: '', extra: null, n: 0, surprise: 'field' },
      code: 'CSV_UNEXPECTED_FIELD',
    }),
  },
}

/** Excel: numbers, text, '' and null come back as written (null is an empty cell); a run replaces the sheet. */
export const excelDestination: Destination = {
  name: 'Excel (excel.write → excel.read)',
  async start() {
    const { dir, remove } = await instanceDir('excel')
    return {
      dir,
      async target(label) {
        const config = { path: `${label}.xlsx`, sheet: 'Contract' }
        return {
          writer: () => ({ type: 'excel.write', config }),
          reader: () => ({ type: 'excel.read', config }),
        }
      },
      stop: remove,
    }
  },
  contract: {
    expected: (row) => row,
    normalize: (row) => row,
    rewrite: 'replace',
    atomicity: 'run',
    // Longer than the 32,767 characters an Excel cell holds.
    badRow: (id) => ({
      row: { id, name: 'x'.repeat(40_000), note: '', extra: null, n: 0 },
      code: 'EXCEL_CELL_TOO_LONG',
    }),
  },
}

/** A SQL server (or file) the contract can write to through sql.write and read back through sql.read. */
export interface SqlServer {
  dir: string
  /** The inline `connection` of sql.write / sql.read. */
  connection: Record<string, unknown>
  /** The name of a new table for a check (unique when the database is shared with other tests). */
  table?(label: string): string
  /** Run DDL as the test's own client (not through the nodes). */
  exec(sql: string): Promise<void>
  stop(): Promise<void>
}

/**
 * A SQL destination: the table is created by the test with a NOT NULL column, so a row with a null
 * `name` is refused by the database itself; `mode: upsert` on the primary key `id`.
 */
export function sqlDestination(options: {
  name: string
  missing?: Destination['missing']
  start(): Promise<SqlServer>
  /** CREATE TABLE in the server's dialect with columns id (primary key), name NOT NULL, note, extra, n (integer). */
  createTable(table: string): string
  /** The error code sql.write gives for the NOT NULL violation. */
  constraintCode?: string
}): Destination {
  return {
    name: options.name,
    ...(options.missing === undefined ? {} : { missing: options.missing }),
    async start(): Promise<DestinationInstance> {
      const server = await options.start()
      return {
        dir: server.dir,
        async target(label) {
          const table = server.table?.(label) ?? `contract_${label}`
          await server.exec(options.createTable(table))
          const connection = server.connection
          return {
            writer: ({ upsert }): NodeSpec => ({
              type: 'sql.write',
              config: { connection, table, mode: upsert ? 'upsert' : 'insert', key: ['id'] },
            }),
            reader: () => ({ type: 'sql.read', config: { connection, table } }),
          }
        },
        stop: () => server.stop(),
      }
    },
    contract: {
      expected: (row) => row,
      normalize: (row) => row,
      rewrite: 'upsert',
      atomicity: 'batch',
      badRow: (id) => ({
        row: { id, name: null, note: '', extra: null, n: 0 },
        code: options.constraintCode ?? 'SQL_CONSTRAINT',
      }),
    },
  }
}

export const sqliteDestination = sqlDestination({
  name: 'SQLite (sql.write → sql.read, driver sqlite)',
  async start() {
    const { dir, remove } = await instanceDir('sqlite')
    const db = new Database(join(dir, 'contract.db'))
    db.pragma('journal_mode = WAL')
    return {
      dir,
      connection: { driver: 'sqlite', path: 'contract.db' },
      exec: async (sql) => void db.exec(sql),
      async stop() {
        db.close()
        await remove()
      },
    }
  },
  createTable: (table) =>
    `CREATE TABLE "${table}" (id TEXT PRIMARY KEY, name TEXT NOT NULL, note TEXT, extra TEXT, n INTEGER)`,
})

// ── PostgreSQL and MariaDB ──────────────────────────────────────────────────────────────────────
// The servers of test/databases.ts (PG_URL / MYSQL_URL, the standard service, or a private one in a
// temp folder; skipped with the reason when none can run, failed with SYNCGRAPH_REQUIRE_SERVICES=1).
// Another SQL server is one more `sqlDestination` entry here.

/** A server of test/databases.ts; every table a check creates is dropped at the end. */
function sqlServer(kind: DatabaseKind): () => Promise<SqlServer> {
  return async () => {
    const { connection } = await testDatabase(kind)
    const { dir, remove } = await instanceDir(String(connection.driver))
    const connector = open(connection)
    const tables: string[] = []
    return {
      dir,
      connection,
      table: (label) => {
        const name = uniqueTable(`contract_${label}`)
        tables.push(name)
        return name
      },
      exec: (sql) => connector.execute(sql),
      async stop() {
        try {
          for (const table of tables) await connector.execute(`DROP TABLE IF EXISTS ${table}`)
        } finally {
          await connector.close()
          await remove()
        }
      },
    }
  }
}

export const postgresDestination = sqlDestination({
  name: 'PostgreSQL (sql.write → sql.read, driver postgres)',
  missing: async () => (await testDatabase('postgres')).missing,
  start: sqlServer('postgres'),
  createTable: (table) =>
    `CREATE TABLE ${table} (id VARCHAR(64) PRIMARY KEY, name TEXT NOT NULL, note TEXT, extra TEXT, n INTEGER)`,
})

export const mariadbDestination = sqlDestination({
  name: 'MariaDB (sql.write → sql.read, driver mysql)',
  missing: async () => (await testDatabase('mariadb')).missing,
  start: sqlServer('mariadb'),
  createTable: (table) =>
    `CREATE TABLE ${table} (id VARCHAR(64) PRIMARY KEY, name TEXT NOT NULL, note TEXT, extra TEXT, n INTEGER) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
})

/** MariaDB with a unique index besides the key, where upsert matches on the key alone (no ON DUPLICATE KEY). */
export const mariadbUniqueDestination = sqlDestination({
  name: 'MariaDB, a second unique index (sql.write upsert by key alone, driver mysql)',
  missing: async () => (await testDatabase('mariadb')).missing,
  start: sqlServer('mariadb'),
  createTable: (table) =>
    `CREATE TABLE ${table} (id VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL, note TEXT, extra TEXT, n INTEGER, UNIQUE KEY name_uq (name)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
})
// ─────────────────────────────────────────────────────────────────────────────────────────────────

const SUFFIX = 'dc=example,dc=com'

/** The single value of an attribute read back (ldap.read gives multi-valued attributes as arrays). */
function single(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? null : value.length === 1 ? value[0] : value
  return value ?? null
}

/**
 * LDAP (ldap.sync → ldap.read, real slapd): fields flow to attributes (id → uid, the RDN; name → cn
 * and sn; note → description; extra → title; n → roomNumber). Values come back as text; '' and null
 * both mean "no value", so the attribute is absent and reads back as null.
 */
export const ldapDestination: Destination = {
  name: 'LDAP (ldap.sync → ldap.read, slapd)',
  missing: slapdMissing,
  async start() {
    const server = await startSlapd()
    const connection = { url: server.url, bindDN: server.rootDn, password: server.rootPw }
    return {
      dir: server.dir,
      async target(label) {
        const base = `ou=${label},${SUFFIX}`
        const client = await server.client()
        try {
          await client.add(base, { objectClass: ['organizationalUnit'], ou: label })
        } finally {
          await client.unbind()
        }
        return {
          writer: () => ({
            type: 'ldap.sync',
            config: {
              connection,
              base,
              scope: 'one',
              filter: '(objectClass=inetOrgPerson)',
              key: [{ source: 'id', target: 'uid' }],
              dn: { rdn: 'uid', from: 'id', parent: base },
              objectClass: ['inetOrgPerson'],
              attributes: {
                uid: 'id',
                cn: 'name',
                sn: 'name',
                description: 'note',
                title: 'extra',
                roomNumber: 'n',
              },
            },
          }),
          reader: () => ({
            type: 'ldap.read',
            config: {
              connection,
              base,
              scope: 'one',
              filter: '(objectClass=inetOrgPerson)',
              attributes: ['uid', 'cn', 'description', 'title', 'roomNumber'],
            },
          }),
        }
      },
      stop: () => server.stop(),
    }
  },
  contract: {
    expected: (row: Row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null || v === '' ? null : String(v)])),
    normalize: (row) => ({
      id: single(row.uid),
      name: single(row.cn),
      note: single(row.description),
      extra: single(row.title),
      n: single(row.roomNumber),
    }),
    rewrite: 'upsert',
    atomicity: 'object',
    // cn and sn are required by inetOrgPerson: the plan sees it in the subschema, the server would refuse it.
    badRow: (id) => ({
      row: { id, name: null, note: '', extra: null, n: 0 },
      code: 'LDAP_OBJECT_CLASS_VIOLATION',
    }),
  },
}

/** Every destination the contract runs against. */
export const destinations: Destination[] = [
  csvDestination,
  excelDestination,
  sqliteDestination,
  postgresDestination,
  mariadbDestination,
  mariadbUniqueDestination,
  ldapDestination,
]
