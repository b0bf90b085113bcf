import { backendService } from '@tenantry/persistence';
import { AuditEventModule } from './audit-events/audit-event.module.js';
import { migrations } from './database/migrations/index.js';

/** The audit service: drains the AUDIT stream into its ledger and answers queries on it. */
export const service = backendService({
  name: 'audit',
  streams: ['AUDIT', 'PARKED'],
  migrations,
  features: [AuditEventModule],
});
