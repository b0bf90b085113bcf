import { runService } from '@tenantry/runtime';
import { service } from './app.module.js';

await runService(service);
