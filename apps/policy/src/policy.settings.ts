import { Inject } from '@nestjs/common';
import { SERVICE_CONFIG, wholeNumberSetting, type ServiceConfig } from '@tenantry/runtime';
import { z } from 'zod';

/**
 * The policy service's own environment, checked at start-up with the common variables
 * (a bad value stops it with exit code 78 and a line naming the variable).
 */
export const PolicySettingsSchema = z.object({
  /**
   * How often the publisher checks that every tenant's snapshot in the bucket is current
   * (a deleted key is put back, a publication NATS missed is made), in seconds.
   */
  POLICY_RECONCILE_SECONDS: wholeNumberSetting('seconds', 1, 3600).default(30),
});
export type PolicySettingsEnv = z.output<typeof PolicySettingsSchema>;

/** The policy settings, typed: `constructor(@InjectPolicySettings() settings: PolicySettings)`. */
export interface PolicySettings {
  reconcileIntervalMs: number;
}

export const POLICY_SETTINGS = Symbol('POLICY_SETTINGS');
export const InjectPolicySettings = () => Inject(POLICY_SETTINGS);

export const policySettingsProvider = {
  provide: POLICY_SETTINGS,
  inject: [SERVICE_CONFIG],
  useFactory: (config: ServiceConfig): PolicySettings => {
    const env = config.settings as PolicySettingsEnv;
    return { reconcileIntervalMs: env.POLICY_RECONCILE_SECONDS * 1000 };
  },
};
