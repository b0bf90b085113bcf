import { CreateIdentity1764500000000 } from './1764500000000-create-identity.js';
import { WidenCredentialLookup1764500000100 } from './1764500000100-widen-credential-lookup.js';
import { CreateSsoConnections1764500000200 } from './1764500000200-create-sso-connections.js';
import { CreateDomains1764500000300 } from './1764500000300-create-domains.js';
import { CreateScimDirectories1764500000400 } from './1764500000400-create-scim-directories.js';
import { AddScimColumnsToUsers1764500000410 } from './1764500000410-add-scim-columns-to-users.js';
import { CreateScimGroups1764500000420 } from './1764500000420-create-scim-groups.js';
import { CreateSsoSetupLinks1764500000500 } from './1764500000500-create-sso-setup-links.js';
import { CreateTenantProfiles1764600000300 } from './1764600000300-create-tenant-profiles.js';
import { CreatePasskeys1764700000100 } from './1764700000100-create-passkeys.js';

export const migrations = [
  CreateIdentity1764500000000,
  WidenCredentialLookup1764500000100,
  CreateSsoConnections1764500000200,
  CreateDomains1764500000300,
  CreateScimDirectories1764500000400,
  AddScimColumnsToUsers1764500000410,
  CreateScimGroups1764500000420,
  CreateSsoSetupLinks1764500000500,
  CreateTenantProfiles1764600000300,
  CreatePasskeys1764700000100,
];
