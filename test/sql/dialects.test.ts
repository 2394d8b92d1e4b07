import sql from 'mssql'
import { describe, expect, it } from 'vitest'
import { decodeBinary, isBinaryType } from '../../nodes/sql/batch.ts'
import {
  bulkColumnType,
  classifyMssql,
  mssqlDialect,
  mssqlMerge,
  mssqlParam,
  mssqlTypeText,
} from '../../nodes/sql/mssql.ts'
import {
  classifyMysql,
  mysqlDialect,
  mysqlExistingKeys,
  mysqlParam,
  mysqlUpdateFrom,
  mysqlUpsert,
} from '../../nodes/sql/mysql.ts'
import { classifyOracle, NLS_ISO, oracleDialect, oracleMerge, oracleParam } from '../../nodes/sql/oracle.ts'
import {
  classifyPostgres,
  copyText,
  postgresCopy,
  postgresDialect,
  postgresParam,
  postgresUpsert,
} from '../../nodes/sql/postgres.ts'
import { chunkRows } from '../../nodes/sql/statements.ts'
import { kindOf, scopeWhere, itemStatement } from '../../nodes/sql/sync-driver.ts'
import type { WriteSpec } from '../../nodes/sql/types.ts'
import { rowValue } from '../../nodes/sql/values.ts'

const spec: WriteSpec = { table: 'people', mode: 'upsert', columns: ['id', 'name', 'dept'], key: ['id'] }
const HOSTILE = 'x"]`; DROP TABLE t; --'

describe('identifiers are quoted per dialect, so any text is only ever a name', () => {
  it('doubles the quote character of each dialect', () => {
    expect(postgresDialect.quoteIdent(HOSTILE)).toBe('"x""]`; DROP TABLE t; --"')
    expect(mysqlDialect.quoteIdent(HOSTILE)).toBe('`x"]``; DROP TABLE t; --`')
    expect(mssqlDialect.quoteIdent(HOSTILE)).toBe('[x"]]`; DROP TABLE t; --]')
  })
  it('refuses what Oracle cannot quote, and NUL everywhere', () => {
    expect(() => oracleDialect.quoteIdent(HOSTILE)).toThrowErrorMatchingInlineSnapshot(
      `[Error: an Oracle identifier cannot contain a double quote: "x\\"]\`; DROP TABLE t; --"]`,
    )
    expect(oracleDialect.quoteIdent('Name With Space')).toBe('"Name With Space"')
    for (const d of [postgresDialect, mysqlDialect, mssqlDialect])
      expect(() => d.quoteIdent('a\u0000b')).toThrow('NUL')
  })
})

describe('generated SQL', () => {
  it('PostgreSQL: multi-row ON CONFLICT upsert and COPY', () => {
    expect(postgresUpsert(spec, 2).sql).toMatchInlineSnapshot(
      `"INSERT INTO "people" ("id", "name", "dept") VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "dept" = EXCLUDED."dept""`,
    )
    expect(postgresUpsert({ ...spec, columns: ['id'] }, 1).sql).toMatchInlineSnapshot(
      `"INSERT INTO "people" ("id") VALUES ($1) ON CONFLICT ("id") DO NOTHING"`,
    )
    expect(postgresCopy(spec)).toMatchInlineSnapshot(`"COPY "people" ("id", "name", "dept") FROM STDIN"`)
  })
  it('MySQL / MariaDB: ON DUPLICATE KEY UPDATE', () => {
    expect(mysqlUpsert(spec, 2).sql).toMatchInlineSnapshot(
      `"INSERT INTO \`people\` (\`id\`, \`name\`, \`dept\`) VALUES (?, ?, ?), (?, ?, ?) ON DUPLICATE KEY UPDATE \`name\` = VALUES(\`name\`), \`dept\` = VALUES(\`dept\`)"`,
    )
  })
  it('MySQL / MariaDB with another unique index: SELECT, UPDATE and INSERT matching on the key alone', () => {
    expect(mysqlExistingKeys(spec, 2)).toMatchInlineSnapshot(
      `"SELECT v.i, t.\`id\` AS t0 FROM (SELECT 0 AS i, ? AS k0 UNION ALL SELECT 1, ?) AS v JOIN \`people\` AS t ON t.\`id\` = v.k0"`,
    )
    expect(mysqlUpdateFrom(spec, 2)).toMatchInlineSnapshot(
      `"UPDATE \`people\` AS t JOIN (SELECT ? AS k0, ? AS c0, ? AS c1 UNION ALL SELECT ?, ?, ?) AS v ON t.\`id\` = v.k0 SET t.\`name\` = v.c0, t.\`dept\` = v.c1"`,
    )
    expect(mysqlDialect.writeStatements({ ...spec, otherUniqueKeys: true })).toMatchInlineSnapshot(`
      [
        {
          "columns": [
            "name",
            "dept",
            "id",
          ],
          "sql": "UPDATE \`people\` SET \`name\` = ?, \`dept\` = ? WHERE \`id\` = ?",
        },
        {
          "columns": [
            "id",
            "name",
            "dept",
            "id",
          ],
          "sql": "INSERT INTO \`people\` (\`id\`, \`name\`, \`dept\`) SELECT ?, ?, ? FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM \`people\` WHERE \`id\` = ?)",
        },
      ]
    `)
    expect(
      mysqlDialect.writeStatements({ ...spec, columns: ['id'], otherUniqueKeys: true }).map((s) => s.sql),
    ).toMatchInlineSnapshot(`
      [
        "INSERT INTO \`people\` (\`id\`) SELECT ? FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM \`people\` WHERE \`id\` = ?)",
      ]
    `)
  })
  it('SQL Server: MERGE WITH (HOLDLOCK) from a VALUES list', () => {
    expect(mssqlMerge(spec, 2).sql).toMatchInlineSnapshot(
      `"MERGE INTO [people] WITH (HOLDLOCK) AS target USING (VALUES (@p1, @p2, @p3), (@p4, @p5, @p6)) AS source ([id], [name], [dept]) ON target.[id] = source.[id] WHEN MATCHED THEN UPDATE SET target.[name] = source.[name], target.[dept] = source.[dept] WHEN NOT MATCHED THEN INSERT ([id], [name], [dept]) VALUES (source.[id], source.[name], source.[dept]);"`,
    )
    expect(mssqlDialect.writeStatements({ ...spec, mode: 'update' })).toMatchInlineSnapshot(`
      [
        {
          "columns": [
            "name",
            "dept",
            "id",
          ],
          "sql": "UPDATE [people] SET [name] = @p1, [dept] = @p2 WHERE [id] = @p3",
        },
      ]
    `)
    expect(
      mssqlDialect.createTable(
        't',
        [
          { name: 'id', type: 'NVARCHAR(MAX)' },
          { name: 'n', type: '' },
        ],
        ['id'],
      ),
    ).toBe('CREATE TABLE [t] ([id] NVARCHAR(450) NOT NULL, [n] NVARCHAR(MAX), PRIMARY KEY ([id]))')
  })
  it('Oracle: one-row MERGE from dual (for executeMany), :n placeholders', () => {
    expect(oracleMerge(spec).sql).toMatchInlineSnapshot(
      `"MERGE INTO "people" t USING (SELECT :1 AS "id", :2 AS "name", :3 AS "dept" FROM dual) s ON (t."id" = s."id") WHEN MATCHED THEN UPDATE SET t."name" = s."name", t."dept" = s."dept" WHEN NOT MATCHED THEN INSERT ("id", "name", "dept") VALUES (s."id", s."name", s."dept")"`,
    )
    expect(oracleDialect.writeStatements({ ...spec, mode: 'replace' }).map((s) => s.sql)).toEqual([
      'DELETE FROM "people" WHERE "id" = :1',
      'INSERT INTO "people" ("id", "name", "dept") VALUES (:1, :2, :3)',
    ])
    expect(NLS_ISO).toContain(`NLS_TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.FF'`)
  })
  it('splits a batch where a key repeats, so no multi-row statement touches a row twice', () => {
    const rows = [{ id: 1 }, { id: 2 }, { id: 1 }, { id: 3 }, { id: 4 }]
    expect(chunkRows(rows, ['id'], 3).map((c) => c.map((r) => r.id))).toEqual([
      [1, 2],
      [1, 3, 4],
    ])
    expect(chunkRows(rows, [], 2).map((c) => c.length)).toEqual([2, 2, 1])
  })
  it('sql.sync: scope conditions and per-item statements with parameters only', () => {
    expect(scopeWhere(postgresDialect, { dept: 'HR', kind: ['a', 'b', null] }, 2)).toEqual({
      sql: `"dept" = $3 AND ("kind" IN ($4, $5) OR "kind" IS NULL)`,
      params: ['HR', 'a', 'b'],
    })
    const item = {
      key: { id: 7 },
      dn: '{"id":7}',
      action: 'update' as const,
      before: { name: ['Old'] },
      after: { name: ["'; DROP TABLE people; --"] },
      changes: [
        { attribute: 'name', op: 'replace' as const, values: ["'; DROP TABLE people; --"] },
        { attribute: 'dept', op: 'delete' as const, values: [] },
      ],
    }
    expect(itemStatement(mssqlDialect, { table: 'people', scope: { src: 'hr' } }, item)).toEqual({
      sql: 'UPDATE [people] SET [name] = @p1, [dept] = @p2 WHERE [id] = @p3 AND [src] = @p4',
      params: ["'; DROP TABLE people; --", null, 7, 'hr'],
      expect: 'one',
    })
    expect(
      itemStatement(
        oracleDialect,
        { table: 'people', scope: {} },
        { ...item, action: 'delete', changes: [] },
      ),
    ).toEqual({
      sql: 'DELETE FROM "people" WHERE "id" = :1',
      params: [7],
      expect: 'one',
    })
  })
})

describe('type mapping', () => {
  it('binds row values per driver', () => {
    const bytes = new Uint8Array([1, 2])
    expect(postgresParam(['a', 1])).toBe('["a",1]')
    expect(postgresParam(true)).toBe(true)
    expect(Buffer.isBuffer(postgresParam(bytes))).toBe(true)
    expect(mysqlParam(true)).toBe(1)
    expect(mysqlParam({ a: 1 })).toBe('{"a":1}')
    expect(mssqlParam(undefined)).toBe(null)
    expect(oracleParam(false)).toBe(0)
    expect(oracleParam(['x'])).toBe('["x"]')
  })
  it('writes COPY text with escapes, NULL as \\N and bytea as hex', () => {
    expect(copyText('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re')
    expect(copyText(null)).toBe('\\N')
    expect(copyText(false)).toBe('f')
    expect(copyText(Buffer.from([0, 255]))).toBe('\\\\x00ff')
    expect(copyText(['a'])).toBe('["a"]')
  })
  it('reads dates as ISO text, binary as base64, 64-bit integers as numbers when they fit', () => {
    expect(rowValue(new Date('2024-01-02T03:04:05.678Z'))).toBe('2024-01-02T03:04:05.678Z')
    expect(rowValue(Buffer.from([0, 1, 255]))).toBe('AAH/')
    expect(rowValue(42n)).toBe(42)
    expect(rowValue(2n ** 63n - 1n)).toBe('9223372036854775807')
    expect(decodeBinary([{ data: 'AAH/', n: 1 }], ['data'])[0]!.data).toEqual(Buffer.from([0, 1, 255]))
    expect(
      ['bytea', 'BLOB', 'longblob', 'varbinary(max)', 'RAW(16)', 'image', 'text', 'binary_double'].map(
        isBinaryType,
      ),
    ).toEqual([true, true, true, true, true, true, false, false])
  })
  it('declares SQL Server bulk-load column types from the introspected types', () => {
    expect(mssqlTypeText({ type: 'nvarchar', length: -1, precision: null, scale: null })).toBe(
      'nvarchar(max)',
    )
    expect(mssqlTypeText({ type: 'decimal', length: null, precision: 10, scale: 2 })).toBe('decimal(10,2)')
    const declared = (type: string) => {
      const t = bulkColumnType(type)
      const made = (typeof t === 'function' ? t() : t) as sql.ISqlType & {
        length?: number
        precision?: number
        scale?: number
      }
      return { type: made.type, length: made.length, precision: made.precision, scale: made.scale }
    }
    expect(declared('nvarchar(50)')).toMatchObject({ type: sql.NVarChar, length: 50 })
    expect(declared('nvarchar(max)')).toMatchObject({ type: sql.NVarChar, length: sql.MAX })
    expect(declared('decimal(10,2)')).toMatchObject({ type: sql.Decimal, precision: 10, scale: 2 })
    expect(declared('datetime2')).toMatchObject({ type: sql.DateTime2, scale: 7 })
    expect(declared('bit').type).toBe(sql.Bit)
    expect(declared('varbinary(16)')).toMatchObject({ type: sql.VarBinary, length: 16 })
    expect(declared('geography').type).toBe(sql.NVarChar)
  })
  it('compares sql.sync values by column type', () => {
    expect(
      [
        'integer',
        'NUMBER(10)',
        'tinyint(1)',
        'bit',
        'timestamp with time zone',
        'DATETIME2',
        'date',
        'nvarchar(20)',
      ].map(kindOf),
    ).toEqual(['number', 'number', 'boolean', 'boolean', 'datetime', 'datetime', 'date', 'text'])
  })
})

describe("row failures are told from other failures by each database's codes", () => {
  it('maps constraint and value errors, and leaves the rest to fail the batch', () => {
    expect(classifyPostgres({ code: '23505', message: 'dup' }, 3)).toMatchObject({
      index: 3,
      code: 'SQL_CONSTRAINT',
    })
    expect(classifyPostgres({ code: '22P02' }, 0)?.code).toBe('SQL_VALUE')
    expect(classifyPostgres({ code: '08006' }, 0)).toBeUndefined()
    expect(classifyMysql({ errno: 1062, sqlState: '23000' }, 0)?.code).toBe('SQL_CONSTRAINT')
    expect(classifyMysql({ errno: 1406, sqlState: '22001' }, 0)?.code).toBe('SQL_VALUE')
    expect(classifyMysql({ errno: 2013, sqlState: 'HY000' }, 0)).toBeUndefined()
    expect(classifyMssql({ number: 2627 }, 0)?.code).toBe('SQL_CONSTRAINT')
    expect(classifyMssql({ originalError: { info: { number: 8152 } } }, 0)?.code).toBe('SQL_VALUE')
    expect(classifyMssql({ number: 1205 }, 0)).toBeUndefined()
    expect(classifyOracle({ errorNum: 1 }, 0)?.code).toBe('SQL_CONSTRAINT')
    expect(classifyOracle({ errorNum: 12899 }, 0)?.code).toBe('SQL_VALUE')
    expect(classifyOracle({ errorNum: 3113 }, 0)).toBeUndefined()
  })
})
