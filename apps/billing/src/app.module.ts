import { backendService } from '@tenantry/persistence';
import { migrations } from './database/migrations/index.js';

/** The billing service: its database, NATS and health; its features come with their issues. */
export const service = backendService({
  name: 'billing',
  streams: ['USAGE', 'AUDIT', 'EVENTS'],
  migrations,
  features: [],
});
