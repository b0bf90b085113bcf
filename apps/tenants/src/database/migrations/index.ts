import { CreateTenants1763900000000 } from './1763900000000-create-tenants.js';
import { CreateOutbox1763900000001 } from './1763900000001-create-outbox.js';

export const migrations = [CreateTenants1763900000000, CreateOutbox1763900000001];
