import 'reflect-metadata';
import { isTransientDbError } from '@tenantry/persistence';
import { bootstrapService, loadConfig } from '@tenantry/runtime';
import { AppModule } from './app.module.js';

const config = loadConfig('tenants', { database: true });
await bootstrapService(AppModule.forConfig(config), config, {
  rpc: true,
  isTransientError: isTransientDbError,
});
