import type { MigrationClass } from '@tenantry/persistence';
import { CreateTenantPolicies1765000000000 } from './1765000000000-create-tenant-policies.js';

/** Oldest first. */
export const migrations: MigrationClass[] = [CreateTenantPolicies1765000000000];
