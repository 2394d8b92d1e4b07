import { describeWithDatabase, oracleFromEnv } from './services.ts'
import { liveSqlSuite, TYPED_ROW } from './suite.ts'

const connection = oracleFromEnv()

// Runs only when ORACLE_URL is set (see README, "Verifying against SQL Server and Oracle").
describeWithDatabase(
  'Oracle driver (thin mode) against ORACLE_URL',
  connection === undefined ? 'ORACLE_URL is not set' : undefined,
  () => {
    liveSqlSuite({
      connection: connection!,
      typedTable: (t) =>
        `CREATE TABLE "${t}" ("id" NUMBER(10) PRIMARY KEY, "name" VARCHAR2(200) NOT NULL, "score" BINARY_DOUBLE, "active" NUMBER(1), "born" DATE, "seen" TIMESTAMP(3), "data" BLOB, "tags" CLOB, "note" VARCHAR2(100))`,
      typedExpected: {
        ...TYPED_ROW,
        active: 1,
        born: new Date('2024-01-02T00:00:00').toISOString(),
        seen: new Date('2024-01-02T03:04:05.678').toISOString(),
        tags: '["a","b"]',
      },
      peopleTable: (t) =>
        `CREATE TABLE "${t}" ("id" NUMBER(19) PRIMARY KEY, "name" VARCHAR2(200) NOT NULL, "dept" VARCHAR2(50), "active" NUMBER(1))`,
      activeTrue: 1,
      one: 3,
    })
  },
  { optional: true },
)
