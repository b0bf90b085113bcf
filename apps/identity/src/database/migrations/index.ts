import { CreateIdentity1764500000000 } from './1764500000000-create-identity.js';

export const migrations = [CreateIdentity1764500000000];
