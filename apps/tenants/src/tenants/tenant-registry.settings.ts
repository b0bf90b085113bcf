import { Inject } from '@nestjs/common';
import { REGION_PATTERN } from '@tenantry/contracts';
import { SERVICE_CONFIG, type ServiceConfig } from '@tenantry/runtime';

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
    // Declared in the service's TenantsSettingsSchema (tenants.settings.ts).
    const env = config.settings as {
      TENANTRY_REGIONS?: string;
      TENANT_MAINTENANCE_SECONDS?: number;
    };
    return {
      regions: parseRegions(env.TENANTRY_REGIONS ?? 'local') ?? ['local'],
      maintenanceIntervalMs: (env.TENANT_MAINTENANCE_SECONDS ?? 10) * 1000,
    };
  },
};
