import { Global, Inject, Injectable, Logger, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type pg from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { TRANSIENT_ERROR } from '@tenantry/messaging';
import { DATABASE_READINESS } from '@tenantry/runtime';
import { bootstrapDatabase } from './bootstrap-database.js';
import type { DatabaseOptions } from './database.options.js';
import { runMigrations, type MigrationClass } from './migrations.js';
import { withTenant } from './tenant-transactions.js';
import { Sql } from './sql.js';
import { inBatchedTransaction, runBatch, type BatchedTransaction } from './statement-batch.js';
import {
  setTenantStatement,
  type Results,
  type Statement,
  type TenantQuery,
} from './statements.js';
import { isTransientDbError } from './transient-error.js';

export interface PersistenceModuleOptions {
  database: DatabaseOptions;
  migrations: MigrationClass[];
}

/** Tenant-scoped transactions on the service's data source. */
@Injectable()
export class TenantTransactions {
  constructor(@Inject(getDataSourceToken()) readonly dataSource: DataSource) {}

  run<T>(tenantId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return withTenant(this.dataSource, tenantId, work);
  }

  /** A transaction with no tenant set: tenant tables look empty in it. For platform-level tables. */
  runGlobal<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Runs `statements` as `tenant` in one transaction and one round trip, and returns each
   * one's result: for a hot path whose statements do not depend on each other's results.
   * `set_config('app.tenant_id', …, true)` goes first, so row-level security holds as in
   * `run`. `tenant` is a tenant id, or a platform-level query naming the tenant (`tenantFrom`;
   * the statements then filter by CURRENT_TENANT). The statements are named prepared
   * statements with bind parameters, sent together with a single Sync (`runBatch`).
   */
  async batch<const S extends readonly Statement<unknown>[]>(
    tenant: string | TenantQuery,
    statements: S,
  ): Promise<Results<S>> {
    const [, ...rows] = await runBatch(this.pool, [setTenantStatement(tenant), ...statements]);
    return statements.map((s, i) => s.read(rows[i]!)) as Results<S>;
  }

  /** `batch` with no tenant set: for platform-level tables (the outbox). */
  async batchGlobal<const S extends readonly Statement<unknown>[]>(
    statements: S,
  ): Promise<Results<S>> {
    const rows = await runBatch(this.pool, statements);
    return statements.map((s, i) => s.read(rows[i]!)) as Results<S>;
  }

  /**
   * One transaction whose statements go in batches, one round trip each (`BatchedTransaction`):
   * for a hot path that reads, computes and then writes while holding its locks, e.g. one
   * batch of every tenant's chain locks and heads, then one of every tenant's appends and the
   * commit. No tenant is set: each batch sets it (`setTenantStatement`) before a tenant's
   * statements, and every statement still filters by tenant.
   */
  inBatches<T>(work: (tx: BatchedTransaction) => Promise<T>): Promise<T> {
    return inBatchedTransaction(this.pool, work);
  }

  /** The data source's own pool: the same connections, role and settings as everything else. */
  private get pool(): pg.Pool {
    return (this.dataSource.driver as PostgresDriver).master as pg.Pool;
  }
}

async function retryTransient<T>(what: string, work: () => Promise<T>, logger: Logger): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransientDbError(error) || attempt >= 30) throw error;
      if (attempt === 1 || attempt % 5 === 0) {
        logger.warn(`${what}: database not reachable yet (${(error as Error).message}); retrying`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/**
 * The service's database: created if missing, migrated as the owner role, then
 * used by the service as its non-owner app role.
 */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceModuleOptions): DynamicModule {
    const { database } = options;
    const logger = new Logger('Persistence');
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: async () => {
            await retryTransient('create database', () => bootstrapDatabase(database), logger);
            const applied = await retryTransient(
              'migrate',
              () => runMigrations(database, options.migrations),
              logger,
            );
            if (applied.length) logger.log(`applied migrations: ${applied.join(', ')}`);
            return {
              type: 'postgres' as const,
              host: database.host,
              port: database.port,
              database: database.database,
              username: database.appUser,
              password: database.appPassword,
              autoLoadEntities: true,
              synchronize: false,
              migrationsRun: false,
              installExtensions: false,
              extra: { ...database.extra, max: database.poolSize, connectionTimeoutMillis: 5_000 },
              retryAttempts: 30,
              retryDelay: 1_000,
            };
          },
        }),
      ],
      providers: [
        TenantTransactions,
        Sql,
        {
          provide: DATABASE_READINESS,
          useFactory: (dataSource: DataSource) => ({
            name: 'database',
            probe: () => dataSource.query('SELECT 1'),
          }),
          inject: [getDataSourceToken()],
        },
        { provide: TRANSIENT_ERROR, useValue: isTransientDbError },
      ],
      exports: [TenantTransactions, Sql, DATABASE_READINESS, TRANSIENT_ERROR],
    };
  }
}
