import type { MigrationClass } from '@tenantry/persistence';

/** No tables yet: the identity features add their migrations here. */
export const migrations: MigrationClass[] = [];
