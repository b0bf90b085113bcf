// Defined with the rest of the configuration; the persistence code takes it as it is read.
export type { DatabaseOptions } from '@tenantry/runtime';
