import { describeWithDatabase, mssqlFromEnv } from './services.ts'
import { liveSqlSuite, TYPED_ROW } from './suite.ts'

const connection = mssqlFromEnv()

// Runs only when MSSQL_URL is set (see README, "Verifying against SQL Server and Oracle").
describeWithDatabase(
  'SQL Server driver against MSSQL_URL',
  connection === undefined ? 'MSSQL_URL is not set' : undefined,
  () => {
    liveSqlSuite({
      connection: connection!,
      typedTable: (t) =>
        `CREATE TABLE [${t}] (id INT PRIMARY KEY, name NVARCHAR(200) NOT NULL, score FLOAT, active BIT, born DATE, seen DATETIME2(3), data VARBINARY(MAX), tags NVARCHAR(MAX), note NVARCHAR(MAX))`,
      typedExpected: {
        ...TYPED_ROW,
        born: '2024-01-02T00:00:00.000Z',
        seen: '2024-01-02T03:04:05.678Z',
        tags: '["a","b"]',
      },
      peopleTable: (t) =>
        `CREATE TABLE [${t}] (id BIGINT PRIMARY KEY, name NVARCHAR(200) NOT NULL, dept NVARCHAR(50), active BIT)`,
      activeTrue: true,
      one: 3,
    })
  },
  { optional: true },
)
