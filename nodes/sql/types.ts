import type { Row } from '../../engine/index.ts'

/**
 * The one interface every SQL driver implements (SQLite, PostgreSQL, MySQL/MariaDB, SQL Server,
 * Oracle). Nodes build SQL only through the dialect, from identifiers checked against
 * `describeTable`, and pass every value as a parameter.
 */

export const SQL_DRIVERS = ['sqlite', 'postgres', 'mysql', 'mssql', 'oracle'] as const
export type SqlDriver = (typeof SQL_DRIVERS)[number]

export const WRITE_MODES = ['insert', 'upsert', 'replace', 'update', 'delete'] as const
export type WriteMode = (typeof WRITE_MODES)[number]

export interface TableColumn {
  name: string
  /** The declared type as the database reports it (may be empty in SQLite). */
  type: string
  notNull: boolean
  primaryKey: boolean
}

export interface TableInfo {
  name: string
  columns: TableColumn[]
  /** Column sets with a primary key or unique constraint, the primary key first. */
  uniqueKeys: string[][]
  /**
   * Every unique index with its name, where the driver reports them (MySQL/MariaDB), including
   * `partial` ones (a prefix of a column), which cannot serve as a key but still refuse duplicates.
   */
  uniqueIndexes?: { name: string; columns: string[]; partial?: boolean }[]
}

/** A statement run once per row, binding the row's values of `columns` in order. */
export interface RowStatement {
  sql: string
  columns: readonly string[]
}

/** What to write: `columns` are the fields the rows carry, `key` the columns that identify a row. */
export interface WriteSpec {
  table: string
  mode: WriteMode
  columns: readonly string[]
  key: readonly string[]
  /**
   * Columns of a binary type (bytea, BLOB, VARBINARY, RAW): a text value written to one is base64,
   * the form the client-server drivers read binary as, and is decoded to bytes first.
   */
  binaryColumns?: readonly string[]
  /**
   * The table has a unique index that does not hold the whole key, so a row could collide with
   * another row there. MySQL/MariaDB then upserts by the key alone (SELECT, UPDATE, INSERT) instead
   * of `ON DUPLICATE KEY UPDATE`, which fires on any unique index.
   */
  otherUniqueKeys?: boolean
}

/** SQL text for one database: quoting, placeholders and the statements behind each write mode. */
export interface SqlDialect {
  readonly name: SqlDriver
  /** An identifier quoted so any text (quotes, semicolons, spaces) is only ever a name. */
  quoteIdent(identifier: string): string
  /** The placeholder of the `index`-th parameter (1-based). */
  placeholder(index: number): string
  /** `SELECT *` from a table. */
  selectAll(table: string): string
  /** The statements that write one row in `spec.mode`, run in order. */
  writeStatements(spec: WriteSpec): RowStatement[]
  /** The column type to create for a value, or '' when the value says nothing (null). */
  columnType(value: unknown): string
  createTable(
    table: string,
    columns: readonly { name: string; type: string }[],
    key: readonly string[],
  ): string
}

/** A row a batch could not write, with the database's reason. */
export interface RowFailure {
  /** Index of the row in the batch. */
  index: number
  /** `SQL_CONSTRAINT` (unique, not null, check, foreign key) or `SQL_VALUE` (type, size). */
  code: string
  message: string
  cause: unknown
}

export interface BatchOutcome {
  /** Rows affected by each row's last statement; -1 for a failed row. */
  affected: number[]
  failures: RowFailure[]
}

export interface SqlConnector {
  readonly dialect: SqlDialect
  /** Where the connection points, for messages (a file path, host/database). */
  readonly target: string
  /** Stream a query's rows in batches of `batchSize`, holding only one batch at a time. */
  query(sql: string, params: readonly unknown[], batchSize: number, signal: AbortSignal): AsyncIterable<Row[]>
  /** Columns and unique keys of a table or view, or undefined when there is none of that name. */
  describeTable(table: string): Promise<TableInfo | undefined>
  listTables(): Promise<string[]>
  /** Run a statement without parameters or result (DDL). */
  execute(sql: string): Promise<void>
  /**
   * Write a batch in one transaction, through the driver's bulk path for `insert` and `upsert`
   * (COPY, multi-row INSERT, bulk load, MERGE) and per-row statements for the other modes. When a
   * row fails the transaction is rolled back; then, with `keepGoodRows`, the batch is redone row by
   * row (a savepoint per row, one transaction), so the good rows are written and each bad row is
   * reported. Without it, only the first failure is reported and nothing of the batch is written.
   * Failures other than a row's own (connection lost, disk full, database locked) throw.
   */
  writeBatch(spec: WriteSpec, rows: readonly Row[], options: { keepGoodRows: boolean }): Promise<BatchOutcome>
  /** A session on one connection for statements in explicit transactions (sql.sync's apply). */
  session(): Promise<SqlSession>
  close(): Promise<void>
}

/** One connection held for a sequence of statements; `release` gives it back. */
export interface SqlSession {
  /** Run a statement with parameters; resolves with the rows it affected. */
  run(sql: string, params: readonly unknown[]): Promise<number>
  begin(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
  savepoint(name: string): Promise<void>
  rollbackTo(name: string): Promise<void>
  /** Forget a savepoint (a no-op where the database has no RELEASE). */
  releaseSavepoint(name: string): Promise<void>
  release(): Promise<void>
}
