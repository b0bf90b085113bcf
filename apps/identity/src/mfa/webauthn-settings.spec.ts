import { parseConfig } from '@tenantry/runtime';
import { IdentitySettingsSchema, identitySettingsProvider } from '../identity.settings.js';

const webAuthnWith = (env: Record<string, string | undefined>) =>
  identitySettingsProvider.useFactory(
    parseConfig('identity', { settings: IdentitySettingsSchema }, env),
  ).webAuthn;

describe('passkey settings (WEBAUTHN_*)', () => {
  it("default to TENANTRY_APP_URL's host and origin, and the name Tenantry", () => {
    expect(webAuthnWith({ TENANTRY_APP_URL: 'https://App.Example.com:8443/console/' })).toEqual({
      rpId: 'app.example.com',
      rpName: 'Tenantry',
      origins: ['https://app.example.com:8443'],
    });
    // Empty values (as a ConfigMap's '') are unset too.
    expect(
      webAuthnWith({
        TENANTRY_APP_URL: 'http://localhost:3000',
        WEBAUTHN_RP_ID: '',
        WEBAUTHN_ORIGINS: '',
      }),
    ).toEqual({ rpId: 'localhost', rpName: 'Tenantry', origins: ['http://localhost:3000'] });
  });

  it('take a relying party, a name and several origins', () => {
    expect(
      webAuthnWith({
        WEBAUTHN_RP_ID: 'Example.com',
        WEBAUTHN_RP_NAME: 'Acme Cloud',
        WEBAUTHN_ORIGINS: 'https://app.example.com, https://admin.example.com/',
      }),
    ).toEqual({
      rpId: 'example.com',
      rpName: 'Acme Cloud',
      origins: ['https://app.example.com', 'https://admin.example.com'],
    });
  });

  it.each([
    [
      'WEBAUTHN_RP_ID',
      'https://example.com',
      'must be a domain name (e.g. example.com, or localhost), or unset',
    ],
    [
      'WEBAUTHN_RP_ID',
      'example.com:443',
      'must be a domain name (e.g. example.com, or localhost), or unset',
    ],
    [
      'WEBAUTHN_ORIGINS',
      'https://app.example.com/login',
      'must be origins such as https://app.example.com, comma-separated, or unset',
    ],
    [
      'WEBAUTHN_ORIGINS',
      'app.example.com',
      'must be origins such as https://app.example.com, comma-separated, or unset',
    ],
  ])(
    'refuse %s=%s at start-up, naming the variable and what it expects',
    (name, value, expects) => {
      expect(() => webAuthnWith({ [name]: value })).toThrow(
        `invalid configuration: ${name} ${expects} (got ${JSON.stringify(value)})`,
      );
    },
  );
});
