import { Inject, Injectable } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/** A statement with a name: PostgreSQL parses and plans it once per connection, then only binds. */
export interface PreparedStatement {
  name: string;
  text: string;
}

/**
 * Hot-path reads straight on the service's connection pool (the same pool, role and
 * settings TypeORM uses), as named prepared statements: no query runner, no query
 * building, no re-parsing. For single statements outside a transaction on tables
 * without row-level security; everything else goes through TypeORM and
 * TenantTransactions. Only repositories use it.
 */
@Injectable()
export class Sql {
  private readonly pool: pg.Pool;

  constructor(@Inject(getDataSourceToken()) dataSource: DataSource) {
    this.pool = (dataSource.driver as PostgresDriver).master as pg.Pool;
  }

  async rows<T extends pg.QueryResultRow>(
    statement: PreparedStatement,
    values: unknown[],
  ): Promise<T[]> {
    const result = await this.pool.query<T>({ name: statement.name, text: statement.text, values });
    return result.rows;
  }
}
