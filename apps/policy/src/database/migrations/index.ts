import type { MigrationClass } from '@tenantry/persistence';

/** No tables yet: the policy features add their migrations here. */
export const migrations: MigrationClass[] = [];
