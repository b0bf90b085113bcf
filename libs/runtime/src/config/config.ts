import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { DEFAULT_HTTP_PORTS, Namespace, type ServiceName } from '@tenantry/contracts';
import { z } from 'zod';

const port = (what: string) =>
  z.coerce
    .number({ error: `must be a ${what} port number from 1 to 65535` })
    .int({ error: `must be a ${what} port number from 1 to 65535` })
    .min(1, { error: `must be a ${what} port number from 1 to 65535` })
    .max(65535, { error: `must be a ${what} port number from 1 to 65535` });

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `must be a positive integer (${what})` })
    .int({ error: `must be a positive integer (${what})` })
    .positive({ error: `must be a positive integer (${what})` });

const url = (schemes: string[]) =>
  z.string().refine(
    (value) =>
      value.split(',').every((part) => {
        try {
          return schemes.includes(new URL(part.trim()).protocol.replace(':', ''));
        } catch {
          return false;
        }
      }),
    { error: `must be a ${schemes.map((s) => `${s}://`).join(' or ')} URL` },
  );

const optionalUrl = (schemes: string[]) => z.union([z.literal(''), url(schemes)]);

const baseSchema = z.object({
  TENANTRY_NAMESPACE: z
    .string()
    .regex(Namespace.PATTERN, {
      error: 'must be empty or lowercase letters, digits and _ (max 24, starting with a letter)',
    })
    .or(z.literal(''))
    .default(''),
  HTTP_HOST: z.string().min(1, { error: 'must be a host name or address' }).default('0.0.0.0'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  NATS_URL: url(['nats', 'tls']).default('nats://127.0.0.1:4222'),
  NATS_REQUEST_TIMEOUT_MS: positiveInt('milliseconds').default(5_000),
  JETSTREAM_REPLICAS: z.coerce
    .number({ error: 'must be 1, 3 or 5' })
    .refine((n) => [1, 3, 5].includes(n), { error: 'must be 1, 3 or 5' })
    .default(1),
  SHUTDOWN_TIMEOUT_MS: positiveInt('milliseconds').default(10_000),
  INSTANCE_ID: z
    .string()
    .min(1, { error: 'must be a non-empty name for this process, or unset' })
    .optional(),
});

const databaseSchema = z.object({
  DB_HOST: z.string().min(1, { error: 'must be a host name or address' }).default('127.0.0.1'),
  DB_PORT: port('PostgreSQL').default(5432),
  DB_NAME: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, {
      error: 'must be a PostgreSQL database name (lowercase, digits, _)',
    })
    .optional(),
  DB_OWNER_USER: z
    .string()
    .min(1, { error: 'must be a PostgreSQL role name, or unset' })
    .optional(),
  DB_OWNER_PASSWORD: z.string().optional(),
  DB_APP_USER: z.string().min(1, { error: 'must be a PostgreSQL role name, or unset' }).optional(),
  DB_APP_PASSWORD: z.string().optional(),
  DB_BOOTSTRAP_URL: optionalUrl(['postgres', 'postgresql']).default(
    'postgres://postgres@127.0.0.1:5432/postgres',
  ),
  DB_POOL_SIZE: positiveInt('connections').default(10),
});

const redisSchema = z.object({
  REDIS_URL: url(['redis', 'rediss']).default('redis://127.0.0.1:6379'),
});

/** Where a service's database is and which roles it uses; read from DB_* variables. */
export interface DatabaseOptions {
  host: string;
  port: number;
  database: string;
  /** Owns the schema; migrations run as this role. */
  ownerUser: string;
  ownerPassword?: string;
  /** The service's own role: no ownership, no BYPASSRLS, so row-level security always applies. */
  appUser: string;
  appPassword?: string;
  /**
   * A superuser (or CREATEDB + CREATEROLE) URL used once at start-up to create the
   * database and both roles when missing. Leave empty where an operator creates them.
   */
  bootstrapUrl?: string;
  poolSize: number;
  /** Extra `pg` options, e.g. `{ ssl: { rejectUnauthorized: false } }`. */
  extra?: Record<string, unknown>;
}

export interface ServiceConfig {
  service: ServiceName;
  namespace: Namespace;
  httpHost: string;
  httpPort: number;
  logLevel: string;
  natsUrl: string;
  requestTimeoutMs: number;
  streamReplicas: number;
  shutdownTimeoutMs: number;
  instanceId: string;
  database?: DatabaseOptions;
  redisUrl?: string;
  /** The service's own variables, parsed by the schema its definition gives (`settings`). */
  settings: Record<string, unknown>;
}

/** What a service needs besides the common variables; its own variables as a zod object. */
export interface ConfigNeeds {
  database?: boolean;
  redis?: boolean;
  settings?: z.ZodObject;
}

export class ConfigError extends Error {}

/** Reads and validates the environment; throws ConfigError naming every bad variable and what it expects. */
export function parseConfig(
  service: ServiceName,
  needs: ConfigNeeds,
  env: NodeJS.ProcessEnv = process.env,
): ServiceConfig {
  const schema = baseSchema
    .extend({ HTTP_PORT: port('HTTP').default(DEFAULT_HTTP_PORTS[service]) })
    .extend(needs.database ? databaseSchema.shape : {})
    .extend(needs.redis ? redisSchema.shape : {})
    .extend(needs.settings?.shape ?? {});
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const got = env[name];
      return `${name} ${issue.message}${got === undefined ? ' (it is not set)' : ` (got ${JSON.stringify(got)})`}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = result.data as z.infer<typeof baseSchema> &
    Partial<z.infer<typeof databaseSchema>> &
    Partial<z.infer<typeof redisSchema>> & { HTTP_PORT: number };
  const namespace = new Namespace(e.TENANTRY_NAMESPACE);
  const config: ServiceConfig = {
    service,
    namespace,
    httpHost: e.HTTP_HOST,
    httpPort: e.HTTP_PORT,
    logLevel: e.LOG_LEVEL,
    natsUrl: e.NATS_URL,
    requestTimeoutMs: e.NATS_REQUEST_TIMEOUT_MS,
    streamReplicas: e.JETSTREAM_REPLICAS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    instanceId: e.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`,
    settings: Object.fromEntries(
      Object.keys(needs.settings?.shape ?? {}).map((name) => [
        name,
        (result.data as Record<string, unknown>)[name],
      ]),
    ),
  };
  if (needs.database) {
    const database = e.DB_NAME ?? namespace.database(service);
    config.database = {
      host: e.DB_HOST!,
      port: e.DB_PORT!,
      database,
      ownerUser: e.DB_OWNER_USER ?? `${database}_owner`,
      ownerPassword: e.DB_OWNER_PASSWORD || undefined,
      appUser: e.DB_APP_USER ?? `${database}_app`,
      appPassword: e.DB_APP_PASSWORD || undefined,
      bootstrapUrl: e.DB_BOOTSTRAP_URL || undefined,
      poolSize: e.DB_POOL_SIZE!,
    };
  }
  if (needs.redis) config.redisUrl = e.REDIS_URL;
  return config;
}

/** parseConfig for a process entry point: on a bad value, one line on stderr and exit code 78 (EX_CONFIG). */
export function loadConfig(service: ServiceName, needs: ConfigNeeds): ServiceConfig {
  try {
    return parseConfig(service, needs);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(78);
  }
}
