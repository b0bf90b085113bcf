import { Inject } from '@nestjs/common';
import { REGION_PATTERN } from '@tenantry/contracts';
import { SERVICE_CONFIG, type ServiceConfig } from '@tenantry/runtime';
import { z } from 'zod';

const REGIONS_MESSAGE =
  'must be a comma-separated list of region names (lowercase letters, digits, hyphens), e.g. local or eu-central,us-east';

/**
 * The tenant registry's environment (part of the tenants service's settings): checked at
 * start-up with the common variables.
 */
export const TenantRegistrySettingsSchema = z.object({
  /** The data regions this installation serves, comma-separated; a new tenant's default is the first. */
  TENANTRY_REGIONS: z
    .string()
    .default('local')
    .refine((value) => parseRegions(value) !== null, { error: REGIONS_MESSAGE }),
  /**
   * How often the registry applies due plan changes, configures participants it could not
   * reach, and republishes changed access states, in seconds.
   */
  TENANT_MAINTENANCE_SECONDS: z.coerce
    .number({ error: 'must be a whole number of seconds from 1 to 3600' })
    .int({ error: 'must be a whole number of seconds from 1 to 3600' })
    .min(1, { error: 'must be a whole number of seconds from 1 to 3600' })
    .max(3600, { error: 'must be a whole number of seconds from 1 to 3600' })
    .default(10),
});

/** The registry's settings, typed: `constructor(@InjectTenantRegistrySettings() settings: TenantRegistrySettings)`. */
export interface TenantRegistrySettings {
  /** The first is the default region. */
  regions: string[];
  maintenanceIntervalMs: number;
}

export const TENANT_REGISTRY_SETTINGS = Symbol('TENANT_REGISTRY_SETTINGS');
export const InjectTenantRegistrySettings = () => Inject(TENANT_REGISTRY_SETTINGS);

/** `local,eu-central` → ['local', 'eu-central']; null when a name is not a region name. */
export function parseRegions(value: string): string[] | null {
  const regions = value
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (!regions.length || regions.some((r) => !REGION_PATTERN.test(r))) return null;
  return [...new Set(regions)];
}

/** Reads the settings from the service's configuration; the defaults when its schema left them out. */
export const tenantRegistrySettingsProvider = {
  provide: TENANT_REGISTRY_SETTINGS,
  inject: [SERVICE_CONFIG],
  useFactory: (config: ServiceConfig): TenantRegistrySettings => {
    const env = config.settings as Partial<z.output<typeof TenantRegistrySettingsSchema>>;
    return {
      regions: parseRegions(env.TENANTRY_REGIONS ?? 'local') ?? ['local'],
      maintenanceIntervalMs: (env.TENANT_MAINTENANCE_SECONDS ?? 10) * 1000,
    };
  },
};
