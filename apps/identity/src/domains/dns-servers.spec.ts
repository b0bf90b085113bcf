import { ConfigError, parseConfig } from '@tenantry/runtime';
import { IdentitySettingsSchema, type IdentitySettingsEnv } from '../identity.settings.js';
import { parseDnsServer } from './dns-servers.js';

const settings = (env: Record<string, string>) =>
  parseConfig('identity', { settings: IdentitySettingsSchema }, env)
    .settings as IdentitySettingsEnv;

describe('DNS_SERVERS', () => {
  it.each([
    ['10.0.0.2', '10.0.0.2'],
    [' 10.0.0.2:5353 ', '10.0.0.2:5353'],
    ['2001:db8::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:53', '[2001:db8::1]:53'],
    ['127.0.0.1:053', '127.0.0.1:53'],
  ])('takes %j as %j', (entry, server) => {
    expect(parseDnsServer(entry)).toBe(server);
  });

  it.each([
    'dns.example.com',
    'dns.example.com:53',
    '10.0.0.2:0',
    '10.0.0.2:65536',
    '10.0.0.2:',
    '10.0.0',
    '[10.0.0.2]:53',
    '2001:db8::1:53:x',
    'udp://10.0.0.2',
  ])('refuses %j', (entry) => {
    expect(parseDnsServer(entry)).toBeNull();
  });

  it("is the system's resolvers when unset or blank", () => {
    expect(settings({}).DNS_SERVERS).toEqual([]);
    expect(settings({ DNS_SERVERS: ' ' }).DNS_SERVERS).toEqual([]);
  });

  it('is a comma-separated list', () => {
    expect(settings({ DNS_SERVERS: '10.0.0.2, 10.0.0.3:5353,[::1]:53,' }).DNS_SERVERS).toEqual([
      '10.0.0.2',
      '10.0.0.3:5353',
      '[::1]:53',
    ]);
  });

  it('stops start-up naming the variable, what it expects and the bad entry', () => {
    expect(() => settings({ DNS_SERVERS: '10.0.0.2,dns.example.com' })).toThrow(ConfigError);
    expect(() => settings({ DNS_SERVERS: '10.0.0.2,dns.example.com' })).toThrow(
      /DNS_SERVERS must be a comma-separated list of DNS servers as IP addresses.*"dns\.example\.com" is not one \(got "10\.0\.0\.2,dns\.example\.com"\)/,
    );
  });
});
