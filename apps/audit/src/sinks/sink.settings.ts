import { Inject } from '@nestjs/common';
import {
  commaListSetting,
  SERVICE_CONFIG,
  wholeNumberSetting,
  type ServiceConfig,
} from '@tenantry/runtime';
import { z } from 'zod';

const ALLOW_HTTP_EXPECTED =
  'must be a comma-separated list of origins (scheme, host and port only, such as ' +
  'http://127.0.0.1:4455), or unset; for development and tests only';

/**
 * An entry of AUDIT_SINK_ALLOW_HTTP as its origin (`http://127.0.0.1:4455`), or null when
 * it is not an http:// or https:// URL made of scheme, host and port (a trailing `/` is
 * tolerated).
 */
export function parseSinkOrigin(entry: string): string | null {
  const value = entry.trim();
  if (!URL.canParse(value) || /[?#]$/.test(value)) return null;
  const url = new URL(value);
  const originOnly =
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    !url.username &&
    !url.password &&
    url.pathname === '/' &&
    !url.search &&
    !url.hash;
  return originOnly ? url.origin : null;
}

const positiveInt = (what: string, max: number) => wholeNumberSetting(what, 1, max);

/**
 * The audit service's settings for SIEM delivery, checked at start-up with the common
 * variables (a bad value stops it with exit code 78 and a line naming the variable).
 */
export const SinkSettingsSchema = z.object({
  /**
   * Origins whose sinks may use plain http and private or loopback addresses
   * (comma-separated; `http://127.0.0.1:4455`); development and tests only. Unset: every
   * sink URL must be https:// and resolve to public addresses only.
   */
  AUDIT_SINK_ALLOW_HTTP: commaListSetting(
    (entry) => parseSinkOrigin(entry) !== null,
    ALLOW_HTTP_EXPECTED,
  ).transform((entries) => entries.flatMap((entry) => parseSinkOrigin(entry) ?? [])),
  /** How often the delivery loop looks for new ledger entries (milliseconds). */
  AUDIT_SINK_POLL_MS: positiveInt('milliseconds', 60_000).default(1000),
  /** Sinks one audit instance delivers to at the same time (each holds a database connection). */
  AUDIT_SINK_CONCURRENCY: positiveInt('deliveries', 32).default(4),
});
export type SinkSettingsEnv = z.output<typeof SinkSettingsSchema>;

/** The delivery settings, typed: `constructor(@InjectSinkSettings() settings: SinkSettings)`. */
export interface SinkSettings {
  /** Origins (`http://host:port`) allowed plain http and private addresses; empty: none. */
  allowOrigins: string[];
  pollMs: number;
  concurrency: number;
}

export const SINK_SETTINGS = Symbol('SINK_SETTINGS');
export const InjectSinkSettings = () => Inject(SINK_SETTINGS);

export const sinkSettingsProvider = {
  provide: SINK_SETTINGS,
  inject: [SERVICE_CONFIG],
  useFactory: (config: ServiceConfig): SinkSettings => {
    const env = config.settings as Partial<SinkSettingsEnv>;
    return {
      allowOrigins: env.AUDIT_SINK_ALLOW_HTTP ?? [],
      pollMs: env.AUDIT_SINK_POLL_MS ?? 1000,
      concurrency: env.AUDIT_SINK_CONCURRENCY ?? 4,
    };
  },
};
