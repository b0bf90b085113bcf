import { backendService } from '@tenantry/persistence';
import { AuditEventModule } from './audit-events/audit-event.module.js';
import { migrations } from './database/migrations/index.js';
import { LedgerModule } from './ledger/ledger.module.js';
import { LedgerSettingsSchema } from './ledger/ledger.settings.js';
import { ReportModule } from './reports/report.module.js';
import { SinkModule } from './sinks/sink.module.js';
import { SinkSettingsSchema } from './sinks/sink.settings.js';
import { TenantLifecycleModule } from './tenant-lifecycle/tenant-lifecycle.module.js';

/** The audit service: drains the AUDIT stream into its ledger and answers queries on it. */
export const service = backendService({
  name: 'audit',
  streams: ['AUDIT', 'PARKED'],
  migrations,
  settings: SinkSettingsSchema.extend(LedgerSettingsSchema.shape),
  features: [AuditEventModule, LedgerModule, SinkModule, ReportModule, TenantLifecycleModule],
});
