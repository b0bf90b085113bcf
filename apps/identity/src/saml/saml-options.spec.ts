import type { CacheProvider } from '@node-saml/passport-saml';
import type { SamlConnectionConfig } from '../sso/sso.types.js';
import { newSamlId, samlOptionsFor } from './saml-options.js';

const conn: SamlConnectionConfig = {
  id: 'conn-1',
  tenantId: 'tenant-1',
  idp: {
    entityId: 'https://idp.example',
    ssoUrl: 'https://idp.example/sso',
    certificates: ['OLD CERT', 'NEW CERT'],
  },
  sp: {
    entityId: 'https://sp.example/saml',
    acsUrl: 'https://sp.example/acs',
    privateKey: 'SP KEY',
    certificate: 'SP CERT',
  },
  allowIdpInitiated: false,
  requireEncryptedAssertions: false,
  clockSkewSeconds: 90,
};

const cache: CacheProvider = {
  saveAsync: async () => null,
  getAsync: async () => null,
  removeAsync: async () => null,
};

describe('node-saml options of a connection', () => {
  it('trusts every IdP certificate, signs requests with RSA-SHA256, wants signed assertions', () => {
    const options = samlOptionsFor(conn, cache);
    expect(options).toMatchObject({
      entryPoint: 'https://idp.example/sso',
      idpCert: ['OLD CERT', 'NEW CERT'],
      issuer: 'https://sp.example/saml',
      audience: 'https://sp.example/saml',
      callbackUrl: 'https://sp.example/acs',
      privateKey: 'SP KEY',
      decryptionPvk: 'SP KEY',
      signatureAlgorithm: 'sha256',
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      acceptedClockSkewMs: 90_000,
      validateInResponseTo: 'always',
      requestIdExpirationPeriodMs: 600_000,
      disableRequestedAuthnContext: true,
    });
    expect(options.cacheProvider).toBe(cache);
    expect(options.idpCert).not.toBe(conn.idp.certificates);
  });

  it('accepts unsolicited responses only when the connection allows IdP-initiated sign-in', () => {
    expect(samlOptionsFor({ ...conn, allowIdpInitiated: true }, cache).validateInResponseTo).toBe(
      'ifPresent',
    );
  });

  it('makes request IDs that are NCNames with 160 random bits', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newSamlId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^_[0-9a-f]{40}$/);
    const custom = () => '_custom';
    expect(samlOptionsFor(conn, cache, custom).generateUniqueId).toBe(custom);
  });
});
