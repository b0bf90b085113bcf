import pg from 'pg';
import { checkOut } from './pool-client.js';
import type { Row, Statement } from './statements.js';

/**
 * The named statements the server has parsed on this connection, as node-postgres itself
 * records them (its named queries, e.g. Sql's, and these batches share one set of names).
 */
function preparedOn(connection: pg.Connection): Record<string, string> {
  const parsed = (connection as pg.Connection & { parsedStatements?: Record<string, string> })
    .parsedStatements;
  if (typeof parsed !== 'object' || parsed === null)
    throw new Error('node-postgres no longer records the prepared statements of a connection');
  return parsed;
}

/**
 * A bind parameter in PostgreSQL's text format: a Date as ISO 8601, an array of strings as
 * an array literal (text[]), an object as JSON (pass JSON text for jsonb), null as NULL.
 */
export function toParameter(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value))
    return `{${value.map((item) => (item === null ? 'NULL' : `"${String(item).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Every statement as Bind, Describe and Execute (and Parse, the first time a connection
 * sees it), then one Sync, in one write: the server runs them in order as one implicit
 * transaction (committed at the Sync, all rolled back if any fails) and answers once.
 * Results are collected by pg's Query, one per statement, as for several statements in
 * one simple query.
 */
class BatchQuery extends pg.Query {
  constructor(
    private readonly statements: readonly Statement<unknown>[],
    callback: (error: Error | undefined, results: pg.QueryResult | pg.QueryResult[]) => void,
  ) {
    super({ text: statements.map((s) => s.name).join('; ') }, undefined, callback as never);
  }

  override submit = (connection: pg.Connection): Error | null => {
    const parsed = preparedOn(connection);
    const texts = new Map(Object.entries(parsed));
    for (const s of this.statements) {
      if ((texts.get(s.name) ?? s.text) !== s.text)
        return new Error(`prepared statement ${s.name} was used for a different text`);
      texts.set(s.name, s.text);
    }
    let values: (string | null)[][];
    try {
      values = this.statements.map((s) => s.values.map(toParameter));
    } catch (error) {
      return error as Error; // before anything was written
    }
    const parsing = new Set<string>();
    connection.stream.cork();
    try {
      for (const [i, s] of this.statements.entries()) {
        if (parsed[s.name] === undefined && !parsing.has(s.name)) {
          connection.parse({ name: s.name, text: s.text, types: [] }, false);
          parsing.add(s.name);
        }
        connection.bind({ statement: s.name, values: values[i]! }, false);
        connection.describe({ type: 'P', name: '' }, false);
        connection.execute({ portal: '' }, false);
      }
      connection.sync();
    } finally {
      connection.stream.uncork();
    }
    return null;
  };
}

/** Sends `statements` as one BatchQuery on `client` and returns each one's rows (see runBatch). */
async function sendBatch(
  client: pg.PoolClient,
  statements: readonly Statement<unknown>[],
): Promise<Row[][]> {
  const answer = await new Promise<pg.QueryResult | pg.QueryResult[]>((resolve, reject) =>
    client.query(
      new BatchQuery(statements, (error, results) => (error ? reject(error) : resolve(results))),
    ),
  );
  const results = Array.isArray(answer) ? answer : [answer];
  if (results.length !== statements.length)
    throw new Error(`${statements.length} statements gave ${results.length} results`);
  const parsed = preparedOn(client.connection);
  for (const s of statements) parsed[s.name] = s.text;
  return results.map((result) => result.rows);
}

/**
 * Runs `statements` in one round trip and one transaction on a connection of `pool`, as
 * named prepared statements (parsed once per connection, then only bound) with bind
 * parameters; returns each one's rows. After an error the connection leaves the pool: which
 * of its statements the server had parsed is then unknown.
 */
export async function runBatch(
  pool: pg.Pool,
  statements: readonly Statement<unknown>[],
): Promise<Row[][]> {
  if (!statements.length) return [];
  const { client, release } = await checkOut(pool);
  let failure: Error | undefined;
  try {
    return await sendBatch(client, statements);
  } catch (error) {
    failure = error as Error;
    throw error;
  } finally {
    release(failure);
  }
}

const BEGIN = { name: 'tx.begin', text: 'BEGIN', values: [], read: () => undefined } as const;
const COMMIT = { name: 'tx.commit', text: 'COMMIT', values: [], read: () => undefined } as const;

/**
 * A transaction on one connection whose statements go in batches, one round trip each: for
 * work whose later statements depend on what earlier ones read (read in one batch, compute,
 * write and commit in the next) and that must still hold its locks in between.
 */
export interface BatchedTransaction {
  /**
   * Runs `statements` in the transaction in one round trip and returns each one's rows.
   * With `commit`, the transaction commits in the same round trip (nothing may run after).
   */
  run(statements: readonly Statement<unknown>[], options?: { commit?: boolean }): Promise<Row[][]>;
}

/**
 * Runs `work` in one transaction on a connection of `pool`, its statements sent in batches
 * (BatchedTransaction): BEGIN goes with the first batch, COMMIT with the batch that asks for
 * it, or on its own after `work` when none did. If `work` or a batch fails the transaction
 * is rolled back; a connection whose batch failed leaves the pool (as in runBatch), and
 * closing it rolls the transaction back.
 */
export async function inBatchedTransaction<T>(
  pool: pg.Pool,
  work: (tx: BatchedTransaction) => Promise<T>,
): Promise<T> {
  const { client, release } = await checkOut(pool);
  let state = 'idle' as 'idle' | 'open' | 'committed';
  let broken: Error | undefined;
  const tx: BatchedTransaction = {
    async run(statements, options = {}) {
      if (state === 'committed') throw new Error('the batched transaction has already committed');
      const all = [
        ...(state === 'idle' ? [BEGIN] : []),
        ...statements,
        ...(options.commit ? [COMMIT] : []),
      ];
      const begun = state === 'idle';
      state = options.commit ? 'committed' : 'open';
      try {
        const rows = await sendBatch(client, all);
        return rows.slice(begun ? 1 : 0, begun ? 1 + statements.length : statements.length);
      } catch (error) {
        broken = error as Error;
        throw error;
      }
    },
  };
  try {
    const result = await work(tx);
    if (state === 'open') await tx.run([], { commit: true });
    return result;
  } catch (error) {
    if (!broken && state === 'open')
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    release(broken);
  }
}
