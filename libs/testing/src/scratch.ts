import { randomBytes } from 'node:crypto';
import { Namespace } from '@tenantry/contracts';
import { NatsService } from '@tenantry/messaging';
import type { DatabaseOptions } from '@tenantry/runtime';
import { dropDatabase, LOCAL_INFRA } from './cleanup.js';

/** A throwaway database on the local PostgreSQL with its own owner and app roles; `drop()` removes all three. */
export function scratchDatabase(prefix: string, bootstrapUrl = LOCAL_INFRA.bootstrapUrl) {
  const url = new URL(bootstrapUrl);
  const database = `tenantry_${prefix}_${randomBytes(5).toString('hex')}`;
  const options: DatabaseOptions = {
    host: url.hostname,
    port: Number(url.port || 5432),
    database,
    ownerUser: `${database}_owner`,
    appUser: `${database}_app`,
    bootstrapUrl,
    poolSize: 4,
  };
  return {
    options,
    drop: () => dropDatabase(bootstrapUrl, database, [options.appUser, options.ownerUser]),
  };
}

/** A NATS connection for a test that publishes or inspects streams in a namespace. */
export function connectTestNats(
  natsUrl: string,
  namespace: string | Namespace,
): Promise<NatsService> {
  return NatsService.connect({
    service: 'test',
    natsUrl,
    namespace: typeof namespace === 'string' ? new Namespace(namespace) : namespace,
    requestTimeoutMs: 2_000,
    streams: [],
    streamReplicas: 1,
    instanceId: `test-${process.pid}`,
  });
}
