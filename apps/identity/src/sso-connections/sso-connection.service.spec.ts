import 'reflect-metadata';
import { createPublicKey, createSign, createVerify, webcrypto, X509Certificate } from 'node:crypto';
import { jest } from '@jest/globals';
import { X509CertificateGenerator } from '@peculiar/x509';
import { AppError, ErrorCode, type AuditEvent, type SsoConnection } from '@tenantry/contracts';
import { Outbox, type OutboxMessage } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { TenantQuotas } from '../tenant-lifecycle/tenant-quotas.js';
import { normalizeCertificate, parseIdpMetadata, resolveIdp } from './saml-idp.js';
import { generateSpKeyPair } from './sp-key-pair.js';
import { SsoConnectionEntity } from './sso-connection.entity.js';
import { SsoConnectionRepository } from './sso-connection.repository.js';
import { connectionUrls, SsoConnectionService } from './sso-connection.service.js';

const TENANT = '0193a0f0-0000-7000-8000-00000000000a';
const OTHER_TENANT = '0193a0f0-0000-7000-8000-00000000000b';
const ISSUER = 'https://gateway.tenantry.test';
const FIELD = 'saml.idp.metadataXml';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const SOAP = 'urn:oasis:names:tc:SAML:2.0:bindings:SOAP';
const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';

/** A self-signed certificate as an IdP would have (ECDSA P-256: quick to make), PEM and bare base64. */
async function idpCertificate(cn: string): Promise<{ pem: string; base64: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const crypto = webcrypto as unknown as Crypto;
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await X509CertificateGenerator.createSelfSigned(
    { name: `CN=${cn}`, keys, signingAlgorithm: algorithm },
    crypto,
  );
  const pem = cert.toString('pem');
  return { pem, base64: cert.toString('base64') };
}

let certA: { pem: string; base64: string };
let certB: { pem: string; base64: string };
let certC: { pem: string; base64: string };

/** The body of a PEM certificate, on one line (as metadata carries it). */
const bodyOf = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');

/** Okta: md: prefix, POST listed before Redirect, one signing certificate. */
const oktaMetadata = (cert: string) => `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor entityID="http://www.okta.com/exk1fcx2ab3CdEfGh4x7" xmlns:md="${MD}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${PROTOCOL}">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="${DS}"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>
    <md:SingleSignOnService Binding="${POST}" Location="https://acme.okta.com/app/acme_tenantry_1/exk1fcx2ab3CdEfGh4x7/sso/saml/post"/>
    <md:SingleSignOnService Binding="${REDIRECT}" Location="https://acme.okta.com/app/acme_tenantry_1/exk1fcx2ab3CdEfGh4x7/sso/saml"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;

/**
 * Microsoft Entra ID: default namespace, a signature over the document and a WS-Fed
 * RoleDescriptor (both with certificates that are not the IdP's KeyDescriptors), two
 * signing certificates during a rotation.
 */
const entraMetadata = (signing: string[], other: string) => `<?xml version="1.0" encoding="utf-8"?>
<EntityDescriptor ID="_6e2a5a3b-0d6b-4d0e-9d7a-2f8e4c5b1a90" entityID="https://sts.windows.net/8f3c0a52-7e1b-4c49-b6f4-3d2e1a0c9b87/" xmlns="${MD}">
  <Signature xmlns="${DS}">
    <SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></SignedInfo>
    <SignatureValue>AAAA</SignatureValue>
    <KeyInfo><X509Data><X509Certificate>${other}</X509Certificate></X509Data></KeyInfo>
  </Signature>
  <RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">
    <KeyDescriptor use="signing"><KeyInfo xmlns="${DS}"><X509Data><X509Certificate>${other}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
  </RoleDescriptor>
  <IDPSSODescriptor protocolSupportEnumeration="${PROTOCOL}">
${signing
  .map(
    (cert) =>
      `    <KeyDescriptor use="signing"><KeyInfo xmlns="${DS}"><X509Data><X509Certificate>${cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`,
  )
  .join('\n')}
    <SingleLogoutService Binding="${REDIRECT}" Location="https://login.microsoftonline.com/8f3c0a52-7e1b-4c49-b6f4-3d2e1a0c9b87/saml2"/>
    <SingleSignOnService Binding="${REDIRECT}" Location="https://login.microsoftonline.com/8f3c0a52-7e1b-4c49-b6f4-3d2e1a0c9b87/saml2"/>
    <SingleSignOnService Binding="${POST}" Location="https://login.microsoftonline.com/8f3c0a52-7e1b-4c49-b6f4-3d2e1a0c9b87/saml2/post"/>
  </IDPSSODescriptor>
</EntityDescriptor>`;

/**
 * Keycloak: an EntitiesDescriptor around the realm's EntityDescriptor, a signing key, a
 * key without `use` (both usages) and an encryption-only key; the certificate wrapped
 * over several lines; SOAP and artifact services besides POST and Redirect.
 */
const keycloakMetadata = (signing: string, unspecified: string, encryption: string) =>
  `<md:EntitiesDescriptor Name="urn:keycloak" xmlns:md="${MD}" xmlns:ds="${DS}">
  <md:EntityDescriptor entityID="https://keycloak.acme.test/realms/acme">
    <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="${PROTOCOL}">
      <md:KeyDescriptor use="signing">
        <ds:KeyInfo><ds:KeyName>kX3n0dE</ds:KeyName><ds:X509Data><ds:X509Certificate>
${signing.match(/.{1,64}/g)!.join('\n')}
        </ds:X509Certificate></ds:X509Data></ds:KeyInfo>
      </md:KeyDescriptor>
      <md:KeyDescriptor>
        <ds:KeyInfo><ds:X509Data><ds:X509Certificate>${unspecified}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
      </md:KeyDescriptor>
      <md:KeyDescriptor use="encryption">
        <ds:KeyInfo><ds:X509Data><ds:X509Certificate>${encryption}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
      </md:KeyDescriptor>
      <md:ArtifactResolutionService Binding="${SOAP}" Location="https://keycloak.acme.test/realms/acme/protocol/saml/resolve" index="0"/>
      <md:SingleLogoutService Binding="${POST}" Location="https://keycloak.acme.test/realms/acme/protocol/saml"/>
      <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
      <md:SingleSignOnService Binding="${POST}" Location="https://keycloak.acme.test/realms/acme/protocol/saml"/>
      <md:SingleSignOnService Binding="${REDIRECT}" Location="https://keycloak.acme.test/realms/acme/protocol/saml/redirect"/>
      <md:SingleSignOnService Binding="${SOAP}" Location="https://keycloak.acme.test/realms/acme/protocol/saml/soap"/>
    </md:IDPSSODescriptor>
  </md:EntityDescriptor>
</md:EntitiesDescriptor>`;

/** A minimal IdP document with the given IDPSSODescriptor content. */
const idpWith = (inner: string, entityId = 'https://idp.acme.test') =>
  `<md:EntityDescriptor entityID="${entityId}" xmlns:md="${MD}" xmlns:ds="${DS}">
  <md:IDPSSODescriptor protocolSupportEnumeration="${PROTOCOL}">${inner}</md:IDPSSODescriptor>
</md:EntityDescriptor>`;
const signingKey = (cert: string, use = ' use="signing"') =>
  `<md:KeyDescriptor${use}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
const sso = (binding: string, location = 'https://idp.acme.test/sso') =>
  `<md:SingleSignOnService Binding="${binding}" Location="${location}"/>`;

/** The AppError `work` fails with (fails the test when it does not). */
async function failure(work: () => unknown): Promise<AppError> {
  try {
    await work();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError, but it succeeded');
}

beforeAll(async () => {
  [certA, certB, certC] = await Promise.all([
    idpCertificate('idp-signing-a'),
    idpCertificate('idp-signing-b'),
    idpCertificate('idp-other-c'),
  ]);
});

describe('IdP metadata', () => {
  it('reads Okta-like metadata: the HTTP-Redirect location though HTTP-POST comes first', () => {
    expect(parseIdpMetadata(oktaMetadata(certA.base64), FIELD)).toEqual({
      entityId: 'http://www.okta.com/exk1fcx2ab3CdEfGh4x7',
      ssoUrl: 'https://acme.okta.com/app/acme_tenantry_1/exk1fcx2ab3CdEfGh4x7/sso/saml',
      certificates: [certA.pem],
    });
  });

  it("reads Entra-like metadata: both rotation certificates, not the document's signature's nor the WS-Fed role's", () => {
    const idp = parseIdpMetadata(entraMetadata([certA.base64, certB.base64], certC.base64), FIELD);
    expect(idp).toEqual({
      entityId: 'https://sts.windows.net/8f3c0a52-7e1b-4c49-b6f4-3d2e1a0c9b87/',
      ssoUrl: 'https://login.microsoftonline.com/8f3c0a52-7e1b-4c49-b6f4-3d2e1a0c9b87/saml2',
      certificates: [certA.pem, certB.pem],
    });
  });

  it('reads Keycloak-like metadata: signing and use-less keys (wrapped lines too), not the encryption key', () => {
    const idp = parseIdpMetadata(keycloakMetadata(certA.base64, certB.base64, certC.base64), FIELD);
    expect(idp).toEqual({
      entityId: 'https://keycloak.acme.test/realms/acme',
      ssoUrl: 'https://keycloak.acme.test/realms/acme/protocol/saml/redirect',
      certificates: [certA.pem, certB.pem],
    });
  });

  it('falls back to the HTTP-POST location when there is no HTTP-Redirect one; lists a repeated certificate once', () => {
    const xml = idpWith(
      signingKey(certA.base64) +
        signingKey(certA.base64, '') +
        sso(SOAP, 'https://idp.acme.test/soap') +
        sso(POST, 'https://idp.acme.test/post'),
    );
    expect(parseIdpMetadata(xml, FIELD)).toEqual({
      entityId: 'https://idp.acme.test',
      ssoUrl: 'https://idp.acme.test/post',
      certificates: [certA.pem],
    });
  });

  it.each([
    ['not XML', 'this is not xml', 'is not well-formed XML'],
    ['unclosed', `<md:EntityDescriptor xmlns:md="${MD}">`, 'is not well-formed XML'],
    ['another document', '<html><body>Sign in</body></html>', 'has no EntityDescriptor'],
    [
      'an SP',
      `<md:EntityDescriptor entityID="x" xmlns:md="${MD}"><md:SPSSODescriptor protocolSupportEnumeration="${PROTOCOL}"/></md:EntityDescriptor>`,
      'has no IDPSSODescriptor: it is not the metadata of an identity provider',
    ],
    [
      'no entityID',
      idpWith(signingKey('x') + sso(REDIRECT)).replace(/entityID="[^"]*"/, ''),
      'has an EntityDescriptor without an entityID',
    ],
    [
      'no SAML 2.0',
      idpWith(signingKey('x') + sso(REDIRECT)).replace(
        PROTOCOL,
        'urn:oasis:names:tc:SAML:1.1:protocol',
      ),
      'does not support SAML 2.0',
    ],
    [
      'SOAP only',
      idpWith(signingKey('CERT') + sso(SOAP)),
      'has no SingleSignOnService with the HTTP-Redirect binding (nor HTTP-POST)',
    ],
    [
      'no SingleSignOnService',
      idpWith(signingKey('CERT')),
      'has no SingleSignOnService with the HTTP-Redirect binding',
    ],
    [
      'a relative location',
      idpWith(signingKey('CERT') + sso(REDIRECT, '/sso')),
      'has a SingleSignOnService whose Location is not an http(s) URL ("/sso")',
    ],
    [
      'encryption keys only',
      idpWith(signingKey('CERT', ' use="encryption"') + sso(REDIRECT)),
      'has no signing certificate: an IDPSSODescriptor KeyDescriptor (use="signing" or without use)',
    ],
    ['no key at all', idpWith(sso(REDIRECT)), 'has no signing certificate'],
  ])('refuses %s, naming the field and what is missing', (_what, xml, message) => {
    const replaced = xml.replaceAll('CERT', certA.base64);
    let error: unknown;
    try {
      parseIdpMetadata(replaced, FIELD);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [{ field: FIELD, message: expect.stringContaining(message) }],
    });
    expect((error as AppError).message).toContain(`${FIELD}: `);
  });

  it('refuses two identity providers in one EntitiesDescriptor', () => {
    const one = idpWith(signingKey(certA.base64) + sso(REDIRECT), 'https://one.test');
    const two = idpWith(signingKey(certB.base64) + sso(REDIRECT), 'https://two.test');
    const xml = `<md:EntitiesDescriptor xmlns:md="${MD}">${one}${two}</md:EntitiesDescriptor>`;
    expect(() => parseIdpMetadata(xml, FIELD)).toThrow(
      'describes 2 identity providers; give the metadata of exactly one',
    );
  });

  it('refuses any DOCTYPE before parsing (entity expansion, external entities)', () => {
    const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
${idpWith(signingKey(certA.base64) + sso(REDIRECT, 'https://idp.acme.test/&lol2;'))}`;
    const external = `<!doctype md:EntityDescriptor SYSTEM "file:///etc/passwd">${idpWith(
      signingKey(certA.base64) + sso(REDIRECT),
    )}`;
    for (const xml of [laughs, external])
      expect(() => parseIdpMetadata(xml, FIELD)).toThrow(
        `${FIELD}: must not contain a DOCTYPE (refused: entity declarations can attack the parser)`,
      );
  });

  it('refuses a KeyDescriptor whose certificate is not an X.509 certificate, saying which one', () => {
    const xml = idpWith(
      signingKey(certA.base64) +
        signingKey(Buffer.from('not a certificate at all, just bytes').toString('base64')) +
        sso(REDIRECT),
    );
    const error = (() => {
      try {
        return parseIdpMetadata(xml, FIELD);
      } catch (e) {
        return e as AppError;
      }
    })() as AppError;
    expect(error).toMatchObject({ reason: 'SSO_CONNECTION_CERTIFICATE_INVALID' });
    expect(error.message).toMatch(
      /^saml\.idp\.metadataXml: has a KeyDescriptor \(number 2\) whose ds:X509Certificate is not an X\.509 certificate/,
    );
  });
});

describe('certificates', () => {
  it('accepts PEM and bare base64 DER (wrapped or not) alike, as the same PEM', () => {
    const fromPem = normalizeCertificate(certA.pem, 'c');
    expect(fromPem).toBe(certA.pem);
    expect(normalizeCertificate(certA.base64, 'c')).toBe(fromPem);
    expect(
      normalizeCertificate(`\n  ${certA.base64.match(/.{1,76}/g)!.join('\r\n  ')}\n`, 'c'),
    ).toBe(fromPem);
    expect(new X509Certificate(fromPem).subject).toBe('CN=idp-signing-a');
  });

  it.each([
    [
      'not base64',
      'this is not a certificate, nor base64 of one!',
      'must be an X.509 certificate, PEM',
    ],
    [
      'base64 of other bytes',
      Buffer.from('x'.repeat(80)).toString('base64'),
      'is not an X.509 certificate',
    ],
    [
      'a private key',
      '-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----',
      'is a PEM PRIVATE KEY, not a CERTIFICATE',
    ],
  ])('refuses %s, naming the field', (_what, value, message) => {
    expect(() => normalizeCertificate(value, 'saml.idp.certificates.1')).toThrow(
      `saml.idp.certificates.1: ${message}`,
    );
  });

  it('refuses two certificates in one entry', () => {
    expect(() => normalizeCertificate(certA.pem + certB.pem, 'f')).toThrow(
      'f: holds 2 certificates; give one certificate per entry',
    );
  });
});

describe('the IdP forms', () => {
  const fields = () => ({
    entityId: 'https://idp.acme.test',
    ssoUrl: 'https://idp.acme.test/sso',
    certificates: [certA.pem, certB.base64],
  });

  it('takes the three fields, certificates as PEM', async () => {
    expect(await resolveIdp(fields(), 'saml.idp')).toEqual({
      entityId: 'https://idp.acme.test',
      ssoUrl: 'https://idp.acme.test/sso',
      certificates: [certA.pem, certB.pem],
    });
  });

  it('names the index of a bad certificate', async () => {
    const error = await failure(() =>
      resolveIdp({ ...fields(), certificates: [certA.pem, 'bm90IGEgY2VydA=='] }, 'saml.idp'),
    );
    expect(error.errors).toEqual([
      { field: 'saml.idp.certificates.1', message: expect.stringContaining('is not an X.509') },
    ]);
  });

  it.each([
    [
      {
        metadataXml: '<x/>',
        entityId: 'https://idp.test',
        ssoUrl: 'https://idp.test/sso',
        certificates: ['never read'],
      },
      'metadataXml, entityId + ssoUrl + certificates',
    ],
    [{ metadataXml: '<x/>', metadataUrl: 'https://idp.test/metadata' }, 'metadataXml, metadataUrl'],
    [
      { metadataUrl: 'https://idp.test/metadata', ssoUrl: 'https://idp.test/sso' },
      'metadataUrl, ssoUrl',
    ],
    [{}, 'none'],
  ])('refuses anything but exactly one form (%j)', async (input, given) => {
    const error = await failure(() => resolveIdp(input, 'saml.idp'));
    expect(error).toMatchObject({
      code: ErrorCode.ValidationFailed,
      reason: 'SSO_CONNECTION_IDP_FORM',
      errors: [
        {
          field: 'saml.idp',
          message: `give exactly one of metadataXml, metadataUrl, or entityId with ssoUrl and certificates (got ${given})`,
        },
      ],
    });
  });

  it('names the missing fields of an incomplete field-by-field IdP', async () => {
    const error = await failure(() => resolveIdp({ entityId: 'https://idp.test' }, 'saml.idp'));
    expect(error.errors).toEqual([
      {
        field: 'saml.idp.ssoUrl',
        message:
          'is required when the IdP is given field by field (entityId, ssoUrl and certificates; missing: ssoUrl, certificates)',
      },
    ]);
  });

  it('refuses a metadata URL that is not http(s) without fetching it', async () => {
    const error = await failure(() =>
      resolveIdp({ metadataUrl: 'file:///etc/passwd' }, 'saml.idp'),
    );
    expect(error.errors).toEqual([
      { field: 'saml.idp.metadataUrl', message: 'must be an http:// or https:// URL' },
    ]);
  });
});

describe('the SP key pair', () => {
  it('is RSA 2048 with a self-signed SHA-256 certificate for about ten years, CN = the SP host, matching the key', async () => {
    const now = new Date('2026-03-01T10:00:00.000Z');
    const { privateKey, certificate } = await generateSpKeyPair(
      `${ISSUER}/v1/auth/sso/saml/x/metadata`,
      now,
    );
    expect(privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----/);
    const cert = new X509Certificate(certificate);
    expect(cert.subject).toBe('CN=gateway.tenantry.test');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(new Date(cert.validFrom).toISOString()).toBe(now.toISOString());
    expect(new Date(cert.validTo).toISOString()).toBe('2036-03-01T10:00:00.000Z');
    expect(cert.publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048 });
    expect(cert.ca).toBe(false);
    const signature = createSign('sha256').update('AuthnRequest').sign(privateKey);
    expect(
      createVerify('sha256').update('AuthnRequest').verify(createPublicKey(certificate), signature),
    ).toBe(true);
  });
});

/**
 * An SsoConnectionService over an in-memory sso_connections table and credential lookup,
 * kept as the repository keeps them.
 */
function setup() {
  const rows: SsoConnectionEntity[] = [];
  const lookup = new Map<string, string>();
  const committed: OutboxMessage[] = [];
  const kick = jest.fn<() => void>();
  const copy = (row: SsoConnectionEntity) =>
    Object.assign(new SsoConnectionEntity(), structuredClone(row));
  const find = (tenantId: string, id: string) =>
    rows.find((r) => r.tenantId === tenantId && r.id === id);
  const repository = double(SsoConnectionRepository, {
    insert: async (connection, events) => {
      rows.push(copy(connection));
      lookup.set(connection.id, connection.tenantId);
      committed.push(...events);
    },
    findById: async (tenantId, id) => {
      const row = find(tenantId, id);
      return row ? copy(row) : null;
    },
    list: async (tenantId, limit, after) =>
      rows
        .filter((r) => r.tenantId === tenantId && (!after || r.id > after))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .slice(0, limit)
        .map(copy),
    listEnabled: async (tenantId) =>
      rows.filter((r) => r.tenantId === tenantId && r.enabled).map(copy),
    update: async (tenantId, id, plan) => {
      const row = find(tenantId, id);
      const { next, events } = plan(row ? copy(row) : null);
      if (events.length) {
        Object.assign(row!, copy(next));
        committed.push(...events);
      }
      return next;
    },
    delete: async (tenantId, id, announce) => {
      const row = find(tenantId, id);
      if (!row) return null;
      rows.splice(rows.indexOf(row), 1);
      lookup.delete(id);
      committed.push(...announce(copy(row)));
      return copy(row);
    },
  });
  const tenantsOf = jest.fn<CredentialLookupRepository['tenantsOf']>(async (kind, publicId) => {
    expect(kind).toBe('sso_connection');
    return lookup.has(publicId) ? [lookup.get(publicId)!] : [];
  });
  const service = new SsoConnectionService(
    repository,
    double(CredentialLookupRepository, { tenantsOf }),
    double(Outbox, { kick }),
    { issuer: ISSUER },
    double(TenantQuotas, { precheckSsoConnections: async () => undefined }),
  );
  const audits = (action?: string) =>
    committed
      .filter((m) => m.subject.startsWith('audit.'))
      .map((m) => m.payload as AuditEvent)
      .filter((e) => !action || e.action === action);
  return { service, rows, lookup, committed, kick, audits };
}

const samlRequest = (overrides: Record<string, unknown> = {}) => ({
  tenantId: TENANT,
  name: 'Okta',
  protocol: 'saml' as const,
  saml: { idp: { metadataXml: oktaMetadata(certA.base64) } },
  ...overrides,
});
const oidcRequest = (oidc: Record<string, unknown> = {}) => ({
  tenantId: TENANT,
  name: 'Google Workspace',
  protocol: 'oidc' as const,
  oidc: {
    issuer: 'https://accounts.google.com',
    clientId: 'client-1',
    clientSecret: 'very-secret-1',
    ...oidc,
  },
});

describe('SsoConnectionService', () => {
  it('creates a SAML connection from metadata: the IdP, a fresh SP certificate and the URLs; audited without the key', async () => {
    const { service, rows, lookup, audits, kick } = setup();
    const created = await service.create(
      samlRequest({
        jit: true,
        defaultRole: 'member',
        attributeMapping: { email: 'mail', groups: 'memberOf' },
        groupRoles: [{ group: 'admins', roles: ['admin'] }],
      }),
    );
    const urls = connectionUrls(ISSUER, created.id);
    expect(created).toEqual({
      id: expect.any(String),
      tenantId: TENANT,
      name: 'Okta',
      protocol: 'saml',
      enabled: true,
      jit: true,
      defaultRole: 'member',
      attributeMapping: { email: 'mail', groups: 'memberOf' },
      groupRoles: [{ group: 'admins', roles: ['admin'] }],
      loginUrl: `${ISSUER}/v1/auth/sso/${created.id}/login`,
      saml: {
        idp: {
          entityId: 'http://www.okta.com/exk1fcx2ab3CdEfGh4x7',
          ssoUrl: 'https://acme.okta.com/app/acme_tenantry_1/exk1fcx2ab3CdEfGh4x7/sso/saml',
          certificates: [certA.pem],
        },
        sp: {
          entityId: `${ISSUER}/v1/auth/sso/saml/${created.id}/metadata`,
          acsUrl: `${ISSUER}/v1/auth/sso/saml/${created.id}/acs`,
          metadataUrl: `${ISSUER}/v1/auth/sso/saml/${created.id}/metadata`,
          certificate: rows[0]!.samlSpCertificate,
        },
        allowIdpInitiated: false,
        requireEncryptedAssertions: false,
        clockSkewSeconds: 60,
      },
      oidc: null,
      createdAt: expect.any(String),
      updatedAt: created.createdAt,
    });
    expect(urls.spEntityId).toBe(created.saml!.sp.entityId);
    expect(new X509Certificate(created.saml!.sp.certificate).subject).toBe(
      'CN=gateway.tenantry.test',
    );
    expect(JSON.stringify(created)).not.toContain('PRIVATE KEY');
    expect(lookup.get(created.id)).toBe(TENANT);
    expect(kick).toHaveBeenCalledTimes(1);

    const [audit] = audits('sso_connection.created');
    expect(audit).toMatchObject({
      tenantId: TENANT,
      category: 'auth',
      target: { type: 'sso_connection', id: created.id },
      data: {
        after: {
          name: 'Okta',
          protocol: 'saml',
          saml: {
            idpEntityId: 'http://www.okta.com/exk1fcx2ab3CdEfGh4x7',
            idpCertificates: [new X509Certificate(certA.pem).fingerprint256],
          },
        },
      },
    });
    expect(JSON.stringify(audit)).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(audit)).not.toContain(bodyOf(rows[0]!.samlSpPrivateKey!).slice(0, 40));
  });

  it('takes the SAML options given, and refuses metadata with both forms before making keys', async () => {
    const { service, rows, audits } = setup();
    const created = await service.create(
      samlRequest({
        enabled: false,
        saml: {
          idp: {
            entityId: 'https://idp.test',
            ssoUrl: 'https://idp.test/sso',
            certificates: [certA.base64],
          },
          allowIdpInitiated: true,
          requireEncryptedAssertions: true,
          clockSkewSeconds: 0,
        },
      }),
    );
    expect(created).toMatchObject({
      enabled: false,
      saml: {
        idp: { certificates: [certA.pem] },
        allowIdpInitiated: true,
        requireEncryptedAssertions: true,
        clockSkewSeconds: 0,
      },
    });
    const error = await failure(() =>
      service.create(
        samlRequest({
          saml: { idp: { metadataXml: oktaMetadata(certA.base64), entityId: 'https://x.test' } },
        }),
      ),
    );
    expect(error).toMatchObject({ reason: 'SSO_CONNECTION_IDP_FORM' });
    expect(rows).toHaveLength(1);
    expect(audits()).toHaveLength(1);
  });

  it('creates an OIDC connection with the default scopes; the secret is kept but never shown', async () => {
    const { service, rows } = setup();
    const created = await service.create(oidcRequest());
    expect(created).toMatchObject({
      protocol: 'oidc',
      saml: null,
      oidc: {
        issuer: 'https://accounts.google.com',
        clientId: 'client-1',
        clientSecretSet: true,
        scopes: ['openid', 'email', 'profile'],
        redirectUri: `${ISSUER}/v1/auth/sso/oidc/${created.id}/callback`,
      },
    });
    expect(JSON.stringify(created)).not.toContain('very-secret-1');
    expect(rows[0]!.oidcClientSecret).toBe('very-secret-1');
    expect(rows[0]!.samlSpPrivateKey).toBeNull();
  });

  it('refuses OIDC scopes without openid, naming oidc.scopes', async () => {
    const { service, rows } = setup();
    const error = await failure(() => service.create(oidcRequest({ scopes: ['email'] })));
    expect(error.errors).toEqual([
      {
        field: 'oidc.scopes',
        message: 'must include openid (e.g. ["openid", "email", "profile"])',
      },
    ]);
    expect(rows).toHaveLength(0);
    const created = await service.create(oidcRequest({ scopes: ['openid', 'groups', 'openid'] }));
    expect(created.oidc!.scopes).toEqual(['openid', 'groups']);
  });

  it('gets and lists a tenant’s connections a page at a time, oldest first; another tenant sees none', async () => {
    const { service } = setup();
    const made: SsoConnection[] = [];
    for (let i = 0; i < 3; i++) made.push(await service.create(oidcRequest({ clientId: `c${i}` })));
    const first = await service.list({ tenantId: TENANT, limit: 2 });
    expect(first.items.map((c) => c.id)).toEqual([made[0]!.id, made[1]!.id]);
    const second = await service.list({ tenantId: TENANT, limit: 2, cursor: first.nextCursor! });
    expect(second).toEqual({ items: [made[2]], nextCursor: null });
    expect(await service.get({ tenantId: TENANT, connectionId: made[1]!.id })).toEqual(made[1]);
    expect(await service.list({ tenantId: OTHER_TENANT, limit: 50 })).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(
      await failure(() => service.get({ tenantId: OTHER_TENANT, connectionId: made[0]!.id })),
    ).toMatchObject({ code: ErrorCode.NotFound, reason: 'SSO_CONNECTION_NOT_FOUND' });
  });

  it('updates the fields given, replaces the IdP, keeps the SP key; audits before and after', async () => {
    const { service, rows, audits, kick } = setup();
    const created = await service.create(samlRequest());
    const spKey = rows[0]!.samlSpPrivateKey;
    const updated = await service.update({
      tenantId: TENANT,
      connectionId: created.id,
      name: 'Okta (rotated)',
      defaultRole: null,
      saml: {
        idp: {
          entityId: 'http://www.okta.com/exk1fcx2ab3CdEfGh4x7',
          ssoUrl: 'https://acme.okta.com/sso',
          certificates: [certA.base64, certB.pem],
        },
        clockSkewSeconds: 120,
      },
    });
    expect(updated).toMatchObject({
      name: 'Okta (rotated)',
      defaultRole: null,
      saml: {
        idp: { ssoUrl: 'https://acme.okta.com/sso', certificates: [certA.pem, certB.pem] },
        sp: created.saml!.sp,
        clockSkewSeconds: 120,
        allowIdpInitiated: false,
      },
    });
    expect(updated.updatedAt >= created.updatedAt).toBe(true);
    expect(rows[0]!.samlSpPrivateKey).toBe(spKey);
    const [audit] = audits('sso_connection.updated');
    expect(audit!.data).toMatchObject({
      changed: ['name', 'saml'],
      before: {
        name: 'Okta',
        saml: { idpCertificates: [expect.any(String)], clockSkewSeconds: 60 },
      },
      after: {
        name: 'Okta (rotated)',
        saml: { idpCertificates: [expect.any(String), expect.any(String)], clockSkewSeconds: 120 },
      },
    });
    expect(kick).toHaveBeenCalledTimes(2);

    // The same again changes nothing: no write, no audit.
    await service.update({ tenantId: TENANT, connectionId: created.id, name: 'Okta (rotated)' });
    expect(audits('sso_connection.updated')).toHaveLength(1);
    expect(kick).toHaveBeenCalledTimes(2);
  });

  it('replaces an OIDC secret (audited as changed, never shown) and refuses the other protocol’s settings', async () => {
    const { service, rows, audits } = setup();
    const oidc = await service.create(oidcRequest());
    await service.update({
      tenantId: TENANT,
      connectionId: oidc.id,
      oidc: { clientSecret: 'new-secret-2' },
    });
    expect(rows[0]!.oidcClientSecret).toBe('new-secret-2');
    const [audit] = audits('sso_connection.updated');
    expect(audit!.data).toMatchObject({ changed: ['oidc.clientSecret'] });
    expect(JSON.stringify(audits())).not.toMatch(/very-secret-1|new-secret-2/);

    const error = await failure(() =>
      service.update({ tenantId: TENANT, connectionId: oidc.id, saml: { clockSkewSeconds: 5 } }),
    );
    expect(error).toMatchObject({
      reason: 'SSO_CONNECTION_PROTOCOL_MISMATCH',
      errors: [
        {
          field: 'saml',
          message:
            'this is an oidc connection and its protocol cannot change; create a new connection for saml',
        },
      ],
    });
    const saml = await service.create(samlRequest());
    expect(
      await failure(() =>
        service.update({ tenantId: TENANT, connectionId: saml.id, oidc: { clientId: 'x' } }),
      ),
    ).toMatchObject({ errors: [{ field: 'oidc' }] });
    expect(
      await failure(() =>
        service.update({ tenantId: OTHER_TENANT, connectionId: saml.id, name: 'x' }),
      ),
    ).toMatchObject({ code: ErrorCode.NotFound });
  });

  it('deletes a connection with its lookup row, audited; a second delete is not found', async () => {
    const { service, rows, lookup, audits } = setup();
    const created = await service.create(oidcRequest());
    expect(
      await failure(() => service.delete({ tenantId: OTHER_TENANT, connectionId: created.id })),
    ).toMatchObject({ code: ErrorCode.NotFound });
    expect(await service.delete({ tenantId: TENANT, connectionId: created.id })).toEqual({
      deleted: true,
    });
    expect(rows).toHaveLength(0);
    expect(lookup.has(created.id)).toBe(false);
    expect(audits('sso_connection.deleted')[0]).toMatchObject({
      target: { id: created.id },
      data: { before: { name: 'Google Workspace', oidc: { clientSecretSet: true } } },
    });
    expect(
      await failure(() => service.delete({ tenantId: TENANT, connectionId: created.id })),
    ).toMatchObject({ code: ErrorCode.NotFound });
    expect(await service.forSignIn(created.id)).toBeNull();
  });

  it('gives the sign-in flows the configuration with its secrets, by connection id alone, disabled ones too', async () => {
    const { service, rows } = setup();
    const saml = await service.create(samlRequest({ enabled: false }));
    const oidc = await service.create(oidcRequest());
    const forSaml = await service.forSignIn(saml.id);
    expect(forSaml).toEqual({
      connection: saml,
      saml: {
        id: saml.id,
        tenantId: TENANT,
        idp: saml.saml!.idp,
        sp: {
          entityId: saml.saml!.sp.entityId,
          acsUrl: saml.saml!.sp.acsUrl,
          privateKey: rows[0]!.samlSpPrivateKey,
          certificate: saml.saml!.sp.certificate,
        },
        allowIdpInitiated: false,
        requireEncryptedAssertions: false,
        clockSkewSeconds: 60,
      },
      oidc: null,
    });
    expect(await service.forSignIn(oidc.id)).toEqual({
      connection: oidc,
      saml: null,
      oidc: {
        id: oidc.id,
        tenantId: TENANT,
        issuer: 'https://accounts.google.com',
        clientId: 'client-1',
        clientSecret: 'very-secret-1',
        scopes: ['openid', 'email', 'profile'],
        redirectUri: oidc.oidc!.redirectUri,
      },
    });
    expect(await service.forSignIn('0193a0f0-0000-7000-8000-0000000000ff')).toBeNull();
    expect((await service.listEnabled(TENANT)).map((c) => c.id)).toEqual([oidc.id]);
    expect(await service.listEnabled(OTHER_TENANT)).toEqual([]);
  });

  it('serves SP metadata for SAML connections: entity id, ACS, the certificate to sign and encrypt with', async () => {
    const { service } = setup();
    const saml = await service.create(samlRequest());
    const { xml } = await service.spMetadata({ connectionId: saml.id });
    const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement!;
    expect(root.localName).toBe('EntityDescriptor');
    expect(root.getAttribute('entityID')).toBe(saml.saml!.sp.entityId);
    const sp = root.getElementsByTagNameNS(MD, 'SPSSODescriptor')[0]!;
    expect(sp.getAttribute('AuthnRequestsSigned')).toBe('true');
    expect(sp.getAttribute('WantAssertionsSigned')).toBe('true');
    const acs = sp.getElementsByTagNameNS(MD, 'AssertionConsumerService')[0]!;
    expect(acs.getAttribute('Binding')).toBe(POST);
    expect(acs.getAttribute('Location')).toBe(saml.saml!.sp.acsUrl);
    const keys = Array.from(sp.getElementsByTagNameNS(MD, 'KeyDescriptor')).map((k: Element) => ({
      use: k.getAttribute('use'),
      cert: k.getElementsByTagNameNS(DS, 'X509Certificate')[0]!.textContent!.replace(/\s/g, ''),
    }));
    const body = bodyOf(saml.saml!.sp.certificate);
    expect(keys).toEqual([
      { use: 'signing', cert: body },
      { use: 'encryption', cert: body },
    ]);
    expect(xml).not.toContain('PRIVATE KEY');
    // The same document every time (IdPs and caches compare it).
    expect((await service.spMetadata({ connectionId: saml.id })).xml).toBe(xml);

    const oidc = await service.create(oidcRequest());
    expect(await failure(() => service.spMetadata({ connectionId: oidc.id }))).toMatchObject({
      code: ErrorCode.NotFound,
    });
  });
});
