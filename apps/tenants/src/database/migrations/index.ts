import { CreateTenants1763900000000 } from './1763900000000-create-tenants.js';
import { CreateOutbox1763900000001 } from './1763900000001-create-outbox.js';
import { CreatePlans1764600000100 } from './1764600000100-create-plans.js';
import { ExtendTenants1764600000110 } from './1764600000110-extend-tenants.js';
import { CreateTenantTemplates1764600000120 } from './1764600000120-create-tenant-templates.js';
import { CreateOrganizations1764600000130 } from './1764600000130-create-organizations.js';
import { CreateProvisioningRuns1764600000200 } from './1764600000200-create-provisioning-runs.js';
import { CreateBulkOperations1764600000210 } from './1764600000210-create-bulk-operations.js';

export const migrations = [
  CreateTenants1763900000000,
  CreateOutbox1763900000001,
  CreatePlans1764600000100,
  ExtendTenants1764600000110,
  CreateTenantTemplates1764600000120,
  CreateOrganizations1764600000130,
  CreateProvisioningRuns1764600000200,
  CreateBulkOperations1764600000210,
];
