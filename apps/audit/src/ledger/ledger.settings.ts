import { Inject } from '@nestjs/common';
import {
  SERVICE_CONFIG,
  wholeNumberSetting as wholeNumber,
  type ServiceConfig,
} from '@tenantry/runtime';
import { z } from 'zod';

/**
 * The audit service's ledger settings, checked at start-up with the common variables (a
 * bad value stops it with exit code 78 and a line naming the variable).
 */
export const LedgerSettingsSchema = z.object({
  /** How often each tenant whose chain grew gets a new signed checkpoint, in seconds. */
  AUDIT_CHECKPOINT_SECONDS: wholeNumber('seconds', 1, 3600).default(10),
  /** A new checkpoint signing key every this many days (the old ones stay published). */
  AUDIT_KEY_ROTATION_DAYS: wholeNumber('days', 1, 3650).default(90),
  /**
   * Entries older than this many days are removed, whole sealed segments at a time, leaving
   * a signed tombstone checkpoint; 0 keeps everything forever. The default: a tenant's own
   * retention (its plan's, or its settings', set by the tenants service) wins.
   */
  AUDIT_RETENTION_DAYS: wholeNumber('days', 0, 36500).default(0),
});
export type LedgerSettingsEnv = z.output<typeof LedgerSettingsSchema>;

/** The ledger settings, typed: `constructor(@InjectLedgerSettings() settings: LedgerSettings)`. */
export interface LedgerSettings {
  checkpointIntervalMs: number;
  keyRotationDays: number;
  /** The default retention (a tenant's own wins); 0: keep forever. */
  retentionDays: number;
}

export const LEDGER_SETTINGS = Symbol('LEDGER_SETTINGS');
export const InjectLedgerSettings = () => Inject(LEDGER_SETTINGS);

export const ledgerSettingsProvider = {
  provide: LEDGER_SETTINGS,
  inject: [SERVICE_CONFIG],
  useFactory: (config: ServiceConfig): LedgerSettings => {
    const env = (config.settings ?? {}) as Partial<LedgerSettingsEnv>;
    return {
      checkpointIntervalMs: (env.AUDIT_CHECKPOINT_SECONDS ?? 10) * 1000,
      keyRotationDays: env.AUDIT_KEY_ROTATION_DAYS ?? 90,
      retentionDays: env.AUDIT_RETENTION_DAYS ?? 0,
    };
  },
};
