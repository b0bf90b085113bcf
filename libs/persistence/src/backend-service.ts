import type { ModuleMetadata } from '@nestjs/common';
import type { BackendServiceName, StreamKey } from '@tenantry/contracts';
import { ServiceModule, type ConfigNeeds, type ServiceDefinition } from '@tenantry/runtime';
import type { MigrationClass } from './migrations.js';
import { PersistenceModule } from './persistence.module.js';

export interface BackendServiceOptions {
  name: BackendServiceName;
  /** JetStream streams it publishes to or consumes from (made sure of at start-up). */
  streams: readonly StreamKey[];
  /** Its migrations, oldest first (`src/database/migrations/index.ts`). */
  migrations: MigrationClass[];
  /** Its feature modules (`src/<feature>/<feature>.module.ts`). */
  features: NonNullable<ModuleMetadata['imports']>;
  /** It uses Redis (REDIS_URL; the connection is injected as REDIS). */
  redis?: boolean;
  /** Its own environment variables, checked at start-up with the rest (config.settings). */
  settings?: ConfigNeeds['settings'];
}

/**
 * A service that owns a database, answers over NATS and may consume streams: every
 * backend service is one of these, and its `app.module.ts` is one call to this.
 * `main.ts` then only says `await runService(service)`.
 */
export function backendService(options: BackendServiceOptions): ServiceDefinition {
  return {
    name: options.name,
    needs: { database: true, redis: options.redis, settings: options.settings },
    module: (config) =>
      ServiceModule.forRoot(config, {
        streams: options.streams,
        serveRpc: true,
        database: PersistenceModule.forRoot({
          database: config.database!,
          migrations: options.migrations,
        }),
        features: options.features,
      }),
  };
}
