export { backendService, type BackendServiceOptions } from './backend-service.js';
export { bootstrapDatabase } from './bootstrap-database.js';
export { enableTenantRls, runMigrations, type MigrationClass } from './migrations.js';
export { setTenant, withTenant } from './tenant-transactions.js';
export { Sql, type PreparedStatement } from './sql.js';
export { type BatchedTransaction } from './statement-batch.js';
export {
  CURRENT_TENANT,
  setTenantStatement,
  query,
  statement,
  tenantFrom,
  type Results,
  type Row,
  type Statement,
  type TenantQuery,
} from './statements.js';
export { isTransientDbError } from './transient-error.js';
export {
  PersistenceModule,
  TenantTransactions,
  type PersistenceModuleOptions,
} from './persistence.module.js';
export {
  addToOutbox,
  createOutboxTable,
  outboxAudit,
  outboxAuditFact,
  outboxEvent,
  outboxStatements,
  type AuditFact,
  type OutboxMessage,
} from './outbox/outbox.js';
export { OutboxRelay, type KickOptions } from './outbox/outbox-relay.js';
export { Outbox, OutboxModule } from './outbox/outbox.module.js';
