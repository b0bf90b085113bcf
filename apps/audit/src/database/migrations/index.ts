import { CreateAuditEvents1763900000000 } from './1763900000000-create-audit-events.js';

export const migrations = [CreateAuditEvents1763900000000];
