import { parseConfig } from '@tenantry/runtime';
import { IdentitySettingsSchema } from '../identity.settings.js';
import { parseHttpOrigin } from './http-issuers.js';

const settingsWith = (value: string | undefined) =>
  parseConfig('identity', { settings: IdentitySettingsSchema }, { SSO_ALLOW_HTTP_ISSUERS: value })
    .settings['SSO_ALLOW_HTTP_ISSUERS'];

describe('SSO_ALLOW_HTTP_ISSUERS', () => {
  it('is empty when unset or blank: every issuer must use https', () => {
    expect(settingsWith(undefined)).toEqual([]);
    expect(settingsWith(' , ')).toEqual([]);
  });

  it('takes comma-separated http origins, as origins', () => {
    expect(settingsWith('http://127.0.0.1:4455, http://LocalHost:8080/')).toEqual([
      'http://127.0.0.1:4455',
      'http://localhost:8080',
    ]);
  });

  it.each([
    'https://idp.example.com',
    'http://127.0.0.1:4455/realms/acme',
    'http://127.0.0.1:4455?x=1',
    'http://user:pw@127.0.0.1:4455',
    '127.0.0.1:4455',
  ])('refuses %s at start-up, naming the variable and what it expects', (entry) => {
    expect(() => settingsWith(`http://127.0.0.1:1, ${entry}`)).toThrow(
      `invalid configuration: SSO_ALLOW_HTTP_ISSUERS must be a comma-separated list of http:// origins (scheme, host and port only, such as http://127.0.0.1:4455), or unset; for development and tests only (got ${JSON.stringify(`http://127.0.0.1:1, ${entry}`)})`,
    );
  });

  it('parses one entry to its origin, or null', () => {
    expect(parseHttpOrigin(' http://[::1]:3000 ')).toBe('http://[::1]:3000');
    expect(parseHttpOrigin('http://127.0.0.1:80')).toBe('http://127.0.0.1');
    expect(parseHttpOrigin('ftp://127.0.0.1')).toBeNull();
  });
});
