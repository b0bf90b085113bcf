import 'reflect-metadata';
import { bootstrapService, loadConfig } from '@tenantry/runtime';
import { AppModule } from './app.module.js';
import { setupOpenApi } from './http/openapi.js';
import { installRequestContext } from './http/request-context.js';

const config = loadConfig('gateway', { redis: true });
await bootstrapService(AppModule.forConfig(config), config, {
  rpc: false,
  configure: (app) => {
    installRequestContext(app);
    setupOpenApi(app);
  },
});
