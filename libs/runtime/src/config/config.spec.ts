import { ConfigError, parseConfig } from './config.js';

describe('parseConfig', () => {
  it('works with no environment at all against local defaults', () => {
    const config = parseConfig('audit', { database: true }, {});
    expect(config).toMatchObject({
      service: 'audit',
      httpPort: 3104,
      natsUrl: 'nats://127.0.0.1:4222',
      database: {
        host: '127.0.0.1',
        port: 5432,
        database: 'tenantry_audit',
        ownerUser: 'tenantry_audit_owner',
        appUser: 'tenantry_audit_app',
        bootstrapUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      },
    });
    expect(config.namespace.name).toBe('');
    expect(config.redisUrl).toBeUndefined();
  });

  it('derives database and role names from the namespace', () => {
    const config = parseConfig(
      'tenants',
      { database: true, redis: true },
      { TENANTRY_NAMESPACE: 'ci1' },
    );
    expect(config.database!.database).toBe('tenantry_ci1_tenants');
    expect(config.database!.appUser).toBe('tenantry_ci1_tenants_app');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('names each bad variable, what it expects, and what it got, in one line', () => {
    const attempt = () =>
      parseConfig(
        'audit',
        { database: true },
        { DB_PORT: 'abc', NATS_URL: 'http://x', LOG_LEVEL: 'loud' },
      );
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).not.toContain('\n');
    expect(message).toContain(
      'DB_PORT must be a PostgreSQL port number from 1 to 65535 (got "abc")',
    );
    expect(message).toContain('NATS_URL must be a nats:// or tls:// URL (got "http://x")');
    expect(message).toContain(
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    );
  });

  it('rejects a namespace that would break subjects or database names', () => {
    expect(() => parseConfig('gateway', {}, { TENANTRY_NAMESPACE: 'Has.Dots' })).toThrow(
      /TENANTRY_NAMESPACE must be empty or lowercase letters/,
    );
  });

  it('ignores database variables for a service without a database', () => {
    expect(parseConfig('gateway', {}, { DB_PORT: 'abc' }).database).toBeUndefined();
  });
});
