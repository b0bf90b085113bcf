import { backendService } from '@tenantry/persistence';
import { migrations } from './database/migrations/index.js';

/** The identity service: its database, NATS and health; its features come with their issues. */
export const service = backendService({
  name: 'identity',
  streams: ['AUDIT', 'EVENTS'],
  migrations,
  features: [],
});
