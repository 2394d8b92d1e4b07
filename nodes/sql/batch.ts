import type { Row } from '../../engine/index.ts'
import type { BatchOutcome, RowFailure, SqlDialect, SqlSession, WriteSpec } from './types.ts'

/** What a client-server driver adds to the shared batch writer. */
export interface BatchDriver<S extends SqlSession> {
  dialect: SqlDialect
  /** A row value as the driver binds it. */
  toParam(value: unknown): unknown
  /** The failure of one row (constraint, bad value), or undefined when the error is not the row's. */
  classify(error: unknown, index: number): RowFailure | undefined
  /** The bulk path of insert and upsert: write every row, or throw. Runs inside the batch's transaction. */
  bulk?(session: S, spec: WriteSpec, rows: readonly Row[]): Promise<void>
}

const SAVEPOINT = 'syncgraph_row'

/**
 * Write one batch in one transaction on `session` (see `SqlConnector.writeBatch`): the bulk path
 * first; when a row fails, roll back and redo the batch row by row to name the row(s) at fault.
 */
export async function writeBatchOn<S extends SqlSession>(
  session: S,
  driver: BatchDriver<S>,
  spec: WriteSpec,
  rows: readonly Row[],
  { keepGoodRows }: { keepGoodRows: boolean },
): Promise<BatchOutcome> {
  rows = decodeBinary(rows, spec.binaryColumns ?? [])
  const statements = driver.dialect.writeStatements(spec)
  const writeRow = async (row: Row): Promise<number> => {
    let affected = 0
    for (const { sql, columns } of statements) {
      affected = await session.run(
        sql,
        columns.map((c) => driver.toParam(row[c])),
      )
    }
    return affected
  }
  const bulk = driver.bulk !== undefined && (spec.mode === 'insert' || spec.mode === 'upsert')
  const affected = new Array<number>(rows.length)
  let at = 0
  await session.begin()
  try {
    if (bulk) {
      await driver.bulk!(session, spec, rows)
      affected.fill(1)
    } else {
      for (at = 0; at < rows.length; at++) affected[at] = await writeRow(rows[at]!)
    }
    await session.commit()
    return { affected, failures: [] }
  } catch (error) {
    await session.rollback().catch(() => undefined)
    const failure = driver.classify(error, at)
    if (failure === undefined) throw error
    // A bulk statement does not say which row failed: find out row by row.
    if (!bulk && !keepGoodRows) return { affected: [], failures: [failure] }
  }

  const failures: RowFailure[] = []
  await session.begin()
  try {
    for (let i = 0; i < rows.length; i++) {
      if (keepGoodRows) await session.savepoint(SAVEPOINT)
      try {
        affected[i] = await writeRow(rows[i]!)
        if (keepGoodRows) await session.releaseSavepoint(SAVEPOINT)
      } catch (error) {
        const failure = driver.classify(error, i)
        if (failure === undefined) throw error
        if (!keepGoodRows) {
          await session.rollback()
          return { affected: [], failures: [failure] }
        }
        await session.rollbackTo(SAVEPOINT)
        affected[i] = -1
        failures.push(failure)
      }
    }
    await session.commit()
  } catch (error) {
    await session.rollback().catch(() => undefined)
    throw error
  }
  return { affected, failures }
}

/** Rows with the base64 text of binary columns decoded to bytes. */
export function decodeBinary(rows: readonly Row[], columns: readonly string[]): readonly Row[] {
  if (columns.length === 0) return rows
  return rows.map((row) => {
    let out: Row | undefined
    for (const c of columns) {
      const v = row[c]
      if (typeof v !== 'string') continue
      out ??= { ...row }
      out[c] = Buffer.from(v, 'base64')
    }
    return out ?? row
  })
}

/** Whether a declared column type holds bytes. */
export function isBinaryType(type: string): boolean {
  return /^(bytea|(tiny|medium|long)?blob|(var)?binary(\(.*\))?|raw(\(.*\))?|long raw|image)$/i.test(
    type.trim(),
  )
}

/** The message of an error, for row failures. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
