import type { PreparedStatement } from './sql.js';

/** A row as pg returns it (its type parsers applied: timestamptz is a Date, jsonb an object). */
export type Row = Record<string, unknown>;

/**
 * A named prepared statement with its values, and what its rows mean to the repository
 * that wrote it: a part of a one-round-trip transaction (`TenantTransactions.batch`).
 */
export interface Statement<T = void> {
  readonly name: string;
  readonly text: string;
  readonly values: readonly unknown[];
  readonly read: (rows: Row[]) => T;
}

/** A statement whose rows do not matter (an INSERT, an UPDATE). */
export function statement(prepared: PreparedStatement, values: readonly unknown[]): Statement {
  return { ...prepared, values, read: () => undefined };
}

/** A statement whose rows `read` turns into its result. */
export function query<T>(
  prepared: PreparedStatement,
  values: readonly unknown[],
  read: (rows: Row[]) => T,
): Statement<T> {
  return { ...prepared, values, read };
}

/** What a batch of statements gives back: each statement's result, in order. */
export type Results<S extends readonly Statement<unknown>[]> = {
  -readonly [K in keyof S]: S[K] extends Statement<infer T> ? T : never;
};

/**
 * A platform-level query (on a table without row-level security) that names at most one
 * tenant, e.g. which tenant a login email belongs to: a batch runs as that tenant without a
 * round trip to learn it first (`TenantTransactions.batch`). `prepared` selects one uuid
 * column; no row: the batch runs as no tenant, and tenant tables look empty to it.
 */
export interface TenantQuery {
  readonly tenantQuery: PreparedStatement;
  readonly values: readonly unknown[];
}

export function tenantFrom(prepared: PreparedStatement, values: readonly unknown[]): TenantQuery {
  return { tenantQuery: prepared, values };
}

/**
 * The tenant the batch runs as, in SQL: the expression the row-level-security policy
 * compares with (`enableTenantRls`). Statements of a batch run as a `TenantQuery` filter by
 * it, since they do not know the tenant id themselves.
 */
export const CURRENT_TENANT = `NULLIF(current_setting('app.tenant_id', true), '')::uuid`;

const SET_TENANT: PreparedStatement = {
  name: 'tenant.set',
  text: `SELECT set_config('app.tenant_id', $1, true)`,
};

/** The statement that makes the rest of its transaction run as `tenant` (row-level security). */
export function setTenantStatement(tenant: string | TenantQuery): Statement {
  if (typeof tenant === 'string') return statement(SET_TENANT, [tenant]);
  const { name, text } = tenant.tenantQuery;
  return statement(
    {
      name: `tenant.set-from.${name}`,
      text: `SELECT set_config('app.tenant_id', coalesce((${text})::text, ''), true)`,
    },
    tenant.values,
  );
}
