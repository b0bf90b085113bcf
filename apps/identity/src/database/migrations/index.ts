import { CreateIdentity1764500000000 } from './1764500000000-create-identity.js';
import { WidenCredentialLookup1764500000100 } from './1764500000100-widen-credential-lookup.js';

export const migrations = [CreateIdentity1764500000000, WidenCredentialLookup1764500000100];
