import type { MigrationClass } from '@tenantry/persistence';
import { CreateTenantProfiles1764600000400 } from './1764600000400-create-tenant-profiles.js';
import { CreateTenantPolicies1765000000000 } from './1765000000000-create-tenant-policies.js';

/** Oldest first (TypeORM runs them in timestamp order whatever the order here). */
export const migrations: MigrationClass[] = [
  CreateTenantProfiles1764600000400,
  CreateTenantPolicies1765000000000,
];
