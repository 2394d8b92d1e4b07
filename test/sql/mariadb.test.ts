import { describeWithDatabase, MARIADB, unreachable } from './services.ts'
import { liveSqlSuite, TYPED_ROW } from './suite.ts'

const missing = await unreachable(MARIADB)

describeWithDatabase('MySQL driver against the MariaDB on 127.0.0.1:3306', missing, () => {
  liveSqlSuite({
    connection: MARIADB,
    typedTable: (t) =>
      `CREATE TABLE \`${t}\` (id INT PRIMARY KEY, name TEXT NOT NULL, score DOUBLE, active BOOLEAN, born DATE, seen DATETIME(3), data BLOB, tags TEXT, note TEXT) CHARACTER SET utf8mb4`,
    typedExpected: { ...TYPED_ROW, seen: '2024-01-02 03:04:05.678', tags: '["a","b"]' },
    peopleTable: (t) =>
      `CREATE TABLE \`${t}\` (id BIGINT PRIMARY KEY, name VARCHAR(200) NOT NULL, dept VARCHAR(50), active BOOLEAN) CHARACTER SET utf8mb4`,
    activeTrue: true,
    one: 3,
  })
})
