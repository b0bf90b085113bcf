import { CreateTenants1763900000000 } from './1763900000000-create-tenants.js';

export const migrations = [CreateTenants1763900000000];
