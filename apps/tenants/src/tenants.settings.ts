import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { Global, Inject, Module } from '@nestjs/common';
import {
  SERVICE_CONFIG,
  wholeNumberSetting as wholeNumber,
  type ServiceConfig,
} from '@tenantry/runtime';
import { z } from 'zod';
import { parseRegions } from './tenants/tenant-registry.settings.js';

const REGIONS_MESSAGE =
  'must be a comma-separated list of region names (lowercase letters, digits, hyphens), e.g. local or eu-central,us-east';

/**
 * The tenants service's own environment (the registry's and the provisioning pipeline's), checked at start-up with the common variables
 * (a bad value stops it with exit code 78 and a line naming the variable).
 */
export const TenantsSettingsSchema = z.object({
  /** The data regions this installation serves, comma-separated; a new tenant's default is the first. */
  TENANTRY_REGIONS: z
    .string()
    .default('local')
    .refine((value) => parseRegions(value) !== null, { error: REGIONS_MESSAGE }),
  /**
   * How often the registry applies due plan changes, configures participants it could not
   * reach, and republishes changed access states, in seconds.
   */
  TENANT_MAINTENANCE_SECONDS: wholeNumber('seconds', 1, 3600).default(10),
  /** Attempts a provisioning step gets (the first included) before the run fails and is compensated. */
  PROVISIONING_STEP_ATTEMPTS: wholeNumber('attempts', 1, 100).default(5),
  /** The first retry's delay; each further retry waits twice as long (exponential backoff). */
  PROVISIONING_BACKOFF_MS: wholeNumber('milliseconds', 1, 3_600_000).default(1_000),
  /** How long a worker holds a step's job (renewed while it runs): a worker that died loses it after this. */
  PROVISIONING_LOCK_MS: wholeNumber('milliseconds', 500, 600_000).default(30_000),
  /** How often workers look for jobs whose worker died (stalled) and hand them out again. */
  PROVISIONING_STALLED_INTERVAL_MS: wholeNumber('milliseconds', 200, 600_000).default(30_000),
  /** How often the reconciler looks for runs without a live job in Redis (and once at start). */
  PROVISIONING_RECONCILE_SECONDS: wholeNumber('seconds', 1, 3_600).default(30),
  /** Steps (and bulk operations) one process works on at once. */
  PROVISIONING_CONCURRENCY: wholeNumber('jobs', 1, 1_000).default(10),
  /** How long a step waits for a participant's answer (export and remove can be slow). */
  PROVISIONING_RPC_TIMEOUT_MS: wholeNumber('milliseconds', 100, 600_000).default(15_000),
  /** Hours between scheduling a tenant's deletion and running it, when the request names none (cancellable meanwhile). */
  TENANT_DEPROVISION_GRACE_HOURS: wholeNumber('hours', 0, 2_160).default(72),
  /** Where the deprovisioning export writes one JSON file per tenant; default: a folder under the OS temp dir. */
  TENANT_EXPORT_DIR: z
    .string()
    .optional()
    .transform((value) => value?.trim() || undefined),
});
export type TenantsSettingsEnv = z.output<typeof TenantsSettingsSchema>;

/**
 * The provisioning pipeline's settings, typed:
 * `constructor(@InjectTenantsSettings() settings: TenantsSettings)` (the registry's own are
 * TenantRegistrySettings).
 */
export interface TenantsSettings {
  provisioning: {
    attempts: number;
    backoffMs: number;
    lockMs: number;
    stalledIntervalMs: number;
    reconcileIntervalMs: number;
    concurrency: number;
    rpcTimeoutMs: number;
  };
  /** Absolute path of the export folder. */
  exportDir: string;
  /** Grace before a scheduled deletion runs, when the request names none. */
  deprovisionGraceHours: number;
}

export const TENANTS_SETTINGS = Symbol('TENANTS_SETTINGS');
export const InjectTenantsSettings = () => Inject(TENANTS_SETTINGS);

export function tenantsSettings(config: ServiceConfig): TenantsSettings {
  const env = config.settings as TenantsSettingsEnv;
  const exportDir = env.TENANT_EXPORT_DIR
    ? isAbsolute(env.TENANT_EXPORT_DIR)
      ? env.TENANT_EXPORT_DIR
      : resolve(env.TENANT_EXPORT_DIR)
    : join(tmpdir(), 'tenantry-exports', config.namespace.name || 'default');
  return {
    provisioning: {
      attempts: env.PROVISIONING_STEP_ATTEMPTS,
      backoffMs: env.PROVISIONING_BACKOFF_MS,
      lockMs: env.PROVISIONING_LOCK_MS,
      stalledIntervalMs: env.PROVISIONING_STALLED_INTERVAL_MS,
      reconcileIntervalMs: env.PROVISIONING_RECONCILE_SECONDS * 1000,
      concurrency: env.PROVISIONING_CONCURRENCY,
      rpcTimeoutMs: env.PROVISIONING_RPC_TIMEOUT_MS,
    },
    exportDir,
    deprovisionGraceHours: env.TENANT_DEPROVISION_GRACE_HOURS,
  };
}

export const tenantsSettingsProvider = {
  provide: TENANTS_SETTINGS,
  inject: [SERVICE_CONFIG],
  useFactory: tenantsSettings,
};

/** Makes TENANTS_SETTINGS injectable everywhere in the service (listed first in its features). */
@Global()
@Module({ providers: [tenantsSettingsProvider], exports: [TENANTS_SETTINGS] })
export class TenantsSettingsModule {}
