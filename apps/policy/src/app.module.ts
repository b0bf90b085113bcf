import { backendService } from '@tenantry/persistence';
import { migrations } from './database/migrations/index.js';

/** The policy service: its database, NATS and health; its features come with their issues. */
export const service = backendService({
  name: 'policy',
  streams: ['AUDIT', 'EVENTS'],
  migrations,
  features: [],
});
