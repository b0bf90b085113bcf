import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, parseConfig } from '@tenantry/runtime';
import { tenantsSettings, TenantsSettingsSchema } from './tenants.settings.js';

const needs = { database: true, redis: true, settings: TenantsSettingsSchema };

describe('the tenants service settings', () => {
  it('has defaults for production: 5 attempts from 1 s, 30 s locks and reconciliation, exports under the temp dir, 72 h grace before a deletion', () => {
    const settings = tenantsSettings(parseConfig('tenants', needs, { TENANTRY_NAMESPACE: 'ns1' }));
    expect(settings).toEqual({
      provisioning: {
        attempts: 5,
        backoffMs: 1_000,
        lockMs: 30_000,
        stalledIntervalMs: 30_000,
        reconcileIntervalMs: 30_000,
        concurrency: 10,
        rpcTimeoutMs: 15_000,
      },
      exportDir: join(tmpdir(), 'tenantry-exports', 'ns1'),
      deprovisionGraceHours: 72,
    });
  });

  it('takes short values for tests, and a relative export folder from the working directory', () => {
    const config = parseConfig('tenants', needs, {
      PROVISIONING_STEP_ATTEMPTS: '3',
      PROVISIONING_BACKOFF_MS: '100',
      PROVISIONING_LOCK_MS: '2000',
      PROVISIONING_STALLED_INTERVAL_MS: '1000',
      PROVISIONING_RECONCILE_SECONDS: '1',
      TENANT_EXPORT_DIR: 'var/exports',
    });
    expect(tenantsSettings(config)).toMatchObject({
      provisioning: { attempts: 3, backoffMs: 100, lockMs: 2000, stalledIntervalMs: 1000 },
      exportDir: resolve('var/exports'),
    });
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    // The registry's variables are part of the same environment.
    expect(config.settings['TENANTRY_REGIONS']).toBe('local');
  });

  it('refuses a bad value, naming the variable and what it expects', () => {
    expect(() =>
      parseConfig('tenants', needs, {
        PROVISIONING_STEP_ATTEMPTS: '0',
        PROVISIONING_LOCK_MS: 'soon',
      }),
    ).toThrow(ConfigError);
    expect(() => parseConfig('tenants', needs, { PROVISIONING_STEP_ATTEMPTS: '0' })).toThrow(
      'PROVISIONING_STEP_ATTEMPTS must be a whole number of attempts from 1 to 100 (got "0")',
    );
    expect(() => parseConfig('tenants', needs, { PROVISIONING_LOCK_MS: 'soon' })).toThrow(
      'PROVISIONING_LOCK_MS must be a whole number of milliseconds from 500 to 600000 (got "soon")',
    );
  });
});
