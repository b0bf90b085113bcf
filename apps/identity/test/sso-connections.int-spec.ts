import 'reflect-metadata';
import { createPublicKey, createSign, createVerify, webcrypto, X509Certificate } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { X509CertificateGenerator } from '@peculiar/x509';
import {
  CreateSsoConnectionBodySchema,
  ErrorCode,
  SsoConnectionRpc,
  type AuditEvent,
  type SsoConnection,
} from '@tenantry/contracts';
import { TenantTransactions } from '@tenantry/persistence';
import { freePort } from '@tenantry/testing';
import { DOMParser } from '@xmldom/xmldom';
import * as samlify from 'samlify';
import type { z } from 'zod';
import { SsoConnectionService } from '../src/sso-connections/sso-connection.service.js';
import { IdentityHarness } from './identity.harness.js';

const ADMIN = 'user:01a00000-0000-7000-8000-0000000000ad';
const ISSUER = 'https://tenantry.test';
const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const { binding } = samlify.Constants.namespace;

/** A self-signed RSA certificate as an IdP would have, PEM. */
async function idpCertificate(cn: string): Promise<string> {
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const crypto = webcrypto as unknown as Crypto;
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await X509CertificateGenerator.createSelfSigned(
    { name: `CN=${cn}`, keys, signingAlgorithm: algorithm },
    crypto,
  );
  return cert.toString('pem');
}

/** An IdP's metadata as samlify (a real SAML implementation) writes it. */
function idpMetadata(entityId: string, certificates: string[]): string {
  return samlify
    .IdentityProvider({
      entityID: entityId,
      signingCert: certificates,
      singleSignOnService: [
        { Binding: binding.post, Location: `${entityId}/sso/post` },
        { Binding: binding.redirect, Location: `${entityId}/sso/redirect` },
      ],
      singleLogoutService: [{ Binding: binding.redirect, Location: `${entityId}/slo` }],
    })
    .getMetadata();
}

/**
 * A web server the test controls, serving IdP metadata: `/metadata` the document,
 * `/missing` a 404, `/slow` nothing ever, `/big` 2 MiB streamed without a length,
 * `/big-declared` a declared length of 2 MiB.
 */
async function metadataServer(
  xml: () => string,
): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url!);
    switch (request.url) {
      case '/metadata':
        response.writeHead(200, { 'content-type': 'application/samlmetadata+xml' });
        response.end(xml());
        return;
      case '/slow':
        held.push(response); // answers never
        return;
      case '/big': {
        response.writeHead(200, { 'content-type': 'application/xml' });
        const chunk = Buffer.alloc(64 * 1024, 'a');
        for (let i = 0; i < 32; i++) response.write(chunk);
        response.end();
        return;
      }
      case '/big-declared':
        response.writeHead(200, { 'content-length': String(2 * 1024 * 1024) });
        response.end();
        return;
      default:
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not here');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, requests };
}

/** SSO connections against real PostgreSQL (under RLS), NATS and a real HTTP server of IdP metadata. */
describe('SSO connections', () => {
  let h: IdentityHarness;
  let service: SsoConnectionService;
  let idp: Awaited<ReturnType<typeof metadataServer>>;
  let certA: string;
  let certB: string;
  let served = '';

  const create = (tenantId: string, body: z.input<typeof CreateSsoConnectionBodySchema>) =>
    h.call(SsoConnectionRpc.create, { ...body, tenantId }, ADMIN);
  const samlFromXml = (
    tenantId: string,
    name = 'Keycloak',
    xml = idpMetadata('https://kc.acme.test/realms/acme', [certA]),
  ) => create(tenantId, { name, protocol: 'saml', saml: { idp: { metadataXml: xml } } });
  const oidc = (tenantId: string, name = 'Google') =>
    create(tenantId, {
      name,
      protocol: 'oidc',
      oidc: {
        issuer: 'https://accounts.google.com',
        clientId: 'cid',
        clientSecret: 'shh-secret-1',
      },
    });
  const lookupRows = (id: string) =>
    h.db.query(`SELECT kind, tenant_id FROM credential_lookup WHERE public_id = $1`, [id]);

  beforeAll(async () => {
    [certA, certB] = await Promise.all([
      idpCertificate('kc-signing-a'),
      idpCertificate('kc-signing-b'),
    ]);
    idp = await metadataServer(() => served);
    h = await IdentityHarness.start();
    service = h.get(SsoConnectionService);
  });

  afterAll(async () => {
    idp?.server.closeAllConnections();
    await new Promise((resolve) => idp?.server.close(resolve));
    await h?.close();
  });

  it('creates a SAML connection from uploaded metadata, registered for its tenant and audited without secrets', async () => {
    const tenant = h.addTenant('saml-xml');
    const created = await samlFromXml(tenant.id);
    expect(created).toMatchObject({
      tenantId: tenant.id,
      protocol: 'saml',
      enabled: true,
      jit: false,
      loginUrl: `${ISSUER}/v1/auth/sso/${created.id}/login`,
      saml: {
        idp: {
          entityId: 'https://kc.acme.test/realms/acme',
          ssoUrl: 'https://kc.acme.test/realms/acme/sso/redirect',
          certificates: [new X509Certificate(certA).toString().trim()],
        },
        sp: {
          entityId: `${ISSUER}/v1/auth/sso/saml/${created.id}/metadata`,
          acsUrl: `${ISSUER}/v1/auth/sso/saml/${created.id}/acs`,
          metadataUrl: `${ISSUER}/v1/auth/sso/saml/${created.id}/metadata`,
        },
      },
      oidc: null,
    });
    expect(await lookupRows(created.id)).toEqual([
      { kind: 'sso_connection', tenant_id: tenant.id },
    ]);
    const [row] = (await h.db.query(
      `SELECT saml_sp_private_key, saml_idp_certificates FROM sso_connections WHERE id = $1`,
      [created.id],
    )) as { saml_sp_private_key: string; saml_idp_certificates: string[] }[];
    expect(row!.saml_sp_private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(row!.saml_idp_certificates).toEqual(created.saml!.idp.certificates);

    const [audit] = await h.auditEvents(
      (e) => e.action === 'sso_connection.created' && e.target?.id === created.id,
    );
    expect(audit).toMatchObject({
      tenantId: tenant.id,
      category: 'auth',
      actor: { type: 'user', id: '01a00000-0000-7000-8000-0000000000ad' },
      data: {
        after: { name: 'Keycloak', saml: { idpEntityId: 'https://kc.acme.test/realms/acme' } },
      },
    });
    expect(JSON.stringify(audit)).not.toContain('PRIVATE KEY');
  });

  it('refuses metadata without an IdP, naming saml.idp.metadataXml', async () => {
    const tenant = h.addTenant('saml-bad');
    const sp = samlify
      .ServiceProvider({
        entityID: 'https://sp.test',
        assertionConsumerService: [{ Binding: binding.post, Location: 'https://sp.test/acs' }],
      })
      .getMetadata();
    const error = await h.failure(
      SsoConnectionRpc.create,
      { tenantId: tenant.id, name: 'SP', protocol: 'saml', saml: { idp: { metadataXml: sp } } },
      ADMIN,
    );
    expect(error).toMatchObject({
      code: ErrorCode.ValidationFailed,
      reason: 'SSO_CONNECTION_METADATA_INVALID',
      errors: [
        {
          field: 'saml.idp.metadataXml',
          message: 'has no IDPSSODescriptor: it is not the metadata of an identity provider',
        },
      ],
    });
    expect(await h.call(SsoConnectionRpc.list, { tenantId: tenant.id, limit: 50 })).toEqual({
      items: [],
      nextCursor: null,
    });
  });

  it('creates a SAML connection from a metadata URL, fetched once', async () => {
    const tenant = h.addTenant('saml-url');
    served = idpMetadata('https://okta.acme.test', [certA, certB]);
    const created = await create(tenant.id, {
      name: 'Okta',
      protocol: 'saml',
      saml: { idp: { metadataUrl: `${idp.url}/metadata` }, requireEncryptedAssertions: true },
    });
    served = '';
    await h.call(SsoConnectionRpc.get, { tenantId: tenant.id, connectionId: created.id });
    expect(idp.requests.filter((url) => url === '/metadata')).toHaveLength(1);
    expect(created.saml).toMatchObject({
      idp: {
        entityId: 'https://okta.acme.test',
        ssoUrl: 'https://okta.acme.test/sso/redirect',
        certificates: [
          expect.stringContaining('BEGIN CERTIFICATE'),
          expect.stringContaining('BEGIN CERTIFICATE'),
        ],
      },
      requireEncryptedAssertions: true,
    });
    expect(created.saml!.idp.certificates.map((c) => new X509Certificate(c).subject)).toEqual([
      'CN=kc-signing-a',
      'CN=kc-signing-b',
    ]);
  });

  it('refuses a metadata URL that 404s, answers nothing, is too big, or is not there, saying which', async () => {
    const tenant = h.addTenant('saml-url-bad');
    const nowhere = `http://127.0.0.1:${await freePort()}/metadata`;
    const cases: [string, string, RegExp][] = [
      [
        `${idp.url}/missing`,
        'SSO_CONNECTION_METADATA_UNREACHABLE',
        /answered 404 Not Found; give the URL of the IdP's SAML metadata$/,
      ],
      [`${idp.url}/big`, 'SSO_CONNECTION_METADATA_UNREACHABLE', /is larger than 1024 KiB/],
      [`${idp.url}/big-declared`, 'SSO_CONNECTION_METADATA_UNREACHABLE', /is larger than 1024 KiB/],
      [nowhere, 'SSO_CONNECTION_METADATA_UNREACHABLE', /could not be fetched \(ECONNREFUSED\)$/],
      [
        `${idp.url}/slow`,
        'SSO_CONNECTION_METADATA_UNREACHABLE',
        /did not answer within 10 seconds$/,
      ],
    ];
    for (const [url, reason, message] of cases) {
      const error = await h.failure(
        SsoConnectionRpc.create,
        { tenantId: tenant.id, name: 'Bad', protocol: 'saml', saml: { idp: { metadataUrl: url } } },
        ADMIN,
      );
      expect(error).toMatchObject({ code: ErrorCode.ValidationFailed, reason });
      expect(error.errors).toEqual([
        { field: 'saml.idp.metadataUrl', message: expect.stringMatching(message) },
      ]);
      expect(error.errors![0]!.message.startsWith(url)).toBe(true);
    }
    served = '<html>not metadata</html>';
    const notMetadata = await h.failure(
      SsoConnectionRpc.create,
      {
        tenantId: tenant.id,
        name: 'Bad',
        protocol: 'saml',
        saml: { idp: { metadataUrl: `${idp.url}/metadata` } },
      },
      ADMIN,
    );
    expect(notMetadata.errors).toEqual([
      {
        field: 'saml.idp.metadataUrl',
        message: `the metadata at ${idp.url}/metadata has no EntityDescriptor (SAML 2.0 metadata, namespace ${MD})`,
      },
    ]);
    expect((await h.call(SsoConnectionRpc.list, { tenantId: tenant.id, limit: 50 })).items).toEqual(
      [],
    );
  }, 30_000); // the slow server takes the whole 10 s

  it('lists a tenant’s connections a page at a time, oldest first', async () => {
    const tenant = h.addTenant('list');
    const made: SsoConnection[] = [];
    for (const name of ['One', 'Two', 'Three']) made.push(await oidc(tenant.id, name));
    const first = await h.call(SsoConnectionRpc.list, { tenantId: tenant.id, limit: 2 });
    expect(first.items.map((c) => c.name)).toEqual(['One', 'Two']);
    const second = await h.call(SsoConnectionRpc.list, {
      tenantId: tenant.id,
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second).toEqual({ items: [made[2]], nextCursor: null });
    expect(
      await h.failure(SsoConnectionRpc.list, { tenantId: tenant.id, limit: 2, cursor: 'Zm9yZ2Vk' }),
    ).toMatchObject({ code: ErrorCode.ValidationFailed, errors: [{ field: 'cursor' }] });
    expect((await service.listEnabled(tenant.id)).map((c) => c.name)).toEqual([
      'One',
      'Two',
      'Three',
    ]);
  });

  it('rotates the IdP certificates, audited before and after; refuses a bad one by its index', async () => {
    const tenant = h.addTenant('rotate');
    const created = await samlFromXml(tenant.id);
    const updated = await h.call(
      SsoConnectionRpc.update,
      {
        tenantId: tenant.id,
        connectionId: created.id,
        saml: {
          idp: {
            entityId: 'https://kc.acme.test/realms/acme',
            ssoUrl: 'https://kc.acme.test/realms/acme/sso/redirect',
            certificates: [certA, certB.replace(/-----[A-Z ]+-----|\s/g, '')],
          },
        },
      },
      ADMIN,
    );
    expect(updated.saml!.idp.certificates.map((c) => new X509Certificate(c).subject)).toEqual([
      'CN=kc-signing-a',
      'CN=kc-signing-b',
    ]);
    expect(updated.saml!.sp).toEqual(created.saml!.sp);
    expect(
      await h.call(SsoConnectionRpc.get, { tenantId: tenant.id, connectionId: created.id }),
    ).toEqual(updated);
    expect((await service.forSignIn(created.id))!.saml!.idp.certificates).toEqual(
      updated.saml!.idp.certificates,
    );
    const [audit] = await h.auditEvents(
      (e) => e.action === 'sso_connection.updated' && e.target?.id === created.id,
    );
    expect(audit!.data).toMatchObject({
      changed: ['saml'],
      before: { saml: { idpCertificates: [new X509Certificate(certA).fingerprint256] } },
      after: {
        saml: {
          idpCertificates: [
            new X509Certificate(certA).fingerprint256,
            new X509Certificate(certB).fingerprint256,
          ],
        },
      },
    });

    const error = await h.failure(
      SsoConnectionRpc.update,
      {
        tenantId: tenant.id,
        connectionId: created.id,
        saml: {
          idp: {
            entityId: 'https://kc.acme.test/realms/acme',
            ssoUrl: 'https://kc.acme.test/sso',
            certificates: [certA, Buffer.from('x'.repeat(96)).toString('base64')],
          },
        },
      },
      ADMIN,
    );
    expect(error).toMatchObject({
      reason: 'SSO_CONNECTION_CERTIFICATE_INVALID',
      errors: [
        {
          field: 'saml.idp.certificates.1',
          message: expect.stringContaining('is not an X.509 certificate'),
        },
      ],
    });
  });

  it('deletes a connection and its lookup row, audited', async () => {
    const tenant = h.addTenant('delete');
    const created = await oidc(tenant.id);
    await expect(
      h.call(SsoConnectionRpc.delete, { tenantId: tenant.id, connectionId: created.id }, ADMIN),
    ).resolves.toEqual({ deleted: true });
    expect(
      await h.failure(SsoConnectionRpc.get, { tenantId: tenant.id, connectionId: created.id }),
    ).toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'SSO_CONNECTION_NOT_FOUND',
    });
    expect(await lookupRows(created.id)).toEqual([]);
    expect(await h.db.query(`SELECT id FROM sso_connections WHERE id = $1`, [created.id])).toEqual(
      [],
    );
    expect(await service.forSignIn(created.id)).toBeNull();
    const [audit] = await h.auditEvents(
      (e: AuditEvent) => e.action === 'sso_connection.deleted' && e.target?.id === created.id,
    );
    expect(JSON.stringify(audit)).not.toContain('shh-secret-1');
  });

  it('keeps tenants apart: another tenant gets not-found for every operation', async () => {
    const owner = h.addTenant('rls-owner');
    const other = h.addTenant('rls-other');
    const created = await samlFromXml(owner.id);
    const ref = { tenantId: other.id, connectionId: created.id };
    for (const attempt of [
      h.failure(SsoConnectionRpc.get, ref),
      h.failure(SsoConnectionRpc.update, { ...ref, name: 'Mine now' }, ADMIN),
      h.failure(SsoConnectionRpc.delete, ref, ADMIN),
    ])
      expect(await attempt).toMatchObject({
        code: ErrorCode.NotFound,
        reason: 'SSO_CONNECTION_NOT_FOUND',
      });
    expect(await h.call(SsoConnectionRpc.list, { tenantId: other.id, limit: 50 })).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(await service.listEnabled(other.id)).toEqual([]);
    // Untouched, for its own tenant.
    expect(
      await h.call(SsoConnectionRpc.get, { tenantId: owner.id, connectionId: created.id }),
    ).toEqual(created);
    // As the app role: the other tenant, and no tenant at all, see none of its rows.
    const tx = h.get(TenantTransactions);
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
    const query = `SELECT id FROM sso_connections WHERE id = '${created.id}'`;
    expect(ids(await tx.run(other.id, (m) => m.query(query)))).toEqual([]);
    expect(ids(await tx.runGlobal((m) => m.query(query)))).toEqual([]);
    expect(ids(await tx.run(owner.id, (m) => m.query(query)))).toEqual([created.id]);
    const [table] = await h.db.query(
      `SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'sso_connections'`,
    );
    expect(table).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
  });

  it('serves the SP metadata: the entity id, the ACS and the certificate, readable by another SAML implementation', async () => {
    const tenant = h.addTenant('sp-metadata');
    const created = await samlFromXml(tenant.id);
    const { xml } = await h.call(SsoConnectionRpc.spMetadata, { connectionId: created.id });
    const sp = created.saml!.sp;
    const body = sp.certificate.replace(/-----[A-Z ]+-----|\s/g, '');
    expect(xml).toContain(`entityID="${sp.entityId}"`);
    expect(xml).toContain(`Location="${sp.acsUrl}"`);
    expect(xml.replace(/\s/g, '')).toContain(body);
    expect(xml).not.toContain('PRIVATE');

    const document = new DOMParser().parseFromString(xml, 'text/xml');
    const descriptor = document.getElementsByTagNameNS(MD, 'SPSSODescriptor')[0]!;
    expect(descriptor.getAttribute('AuthnRequestsSigned')).toBe('true');
    expect(descriptor.getAttribute('WantAssertionsSigned')).toBe('true');
    expect(
      Array.from(document.getElementsByTagNameNS(DS, 'X509Certificate')).map((e) =>
        e.textContent!.replace(/\s/g, ''),
      ),
    ).toEqual([body, body]);

    const read = samlify.ServiceProvider({ metadata: xml });
    expect(read.entityMeta.getEntityID()).toBe(sp.entityId);
    expect(read.entityMeta.getAssertionConsumerService('post')).toBe(sp.acsUrl);
    expect(read.entityMeta.isAuthnRequestSigned()).toBe(true);
    expect(read.entityMeta.isWantAssertionsSigned()).toBe(true);
    for (const use of ['signing', 'encryption'])
      expect(String(read.entityMeta.getX509Certificate(use)).replace(/\s/g, '')).toBe(body);

    const oidcConnection = await oidc(tenant.id);
    for (const connectionId of [oidcConnection.id, '01a00000-0000-7000-8000-00000000dead'])
      expect(await h.failure(SsoConnectionRpc.spMetadata, { connectionId })).toMatchObject({
        code: ErrorCode.NotFound,
      });
  });

  it('gives the sign-in flows the SP private key and the OIDC secret, disabled connections too', async () => {
    const tenant = h.addTenant('for-sign-in');
    const saml = await samlFromXml(tenant.id);
    const disabled = await h.call(
      SsoConnectionRpc.update,
      { tenantId: tenant.id, connectionId: saml.id, enabled: false },
      ADMIN,
    );
    const found = await service.forSignIn(saml.id);
    expect(found).toMatchObject({
      connection: disabled,
      oidc: null,
      saml: {
        id: saml.id,
        tenantId: tenant.id,
        idp: saml.saml!.idp,
        sp: {
          entityId: saml.saml!.sp.entityId,
          acsUrl: saml.saml!.sp.acsUrl,
          certificate: saml.saml!.sp.certificate,
        },
        allowIdpInitiated: false,
        requireEncryptedAssertions: false,
        clockSkewSeconds: 60,
      },
    });
    const { privateKey, certificate } = found!.saml!.sp;
    const signature = createSign('sha256').update('AuthnRequest').sign(privateKey);
    expect(
      createVerify('sha256').update('AuthnRequest').verify(createPublicKey(certificate), signature),
    ).toBe(true);

    const o = await oidc(tenant.id);
    expect(await service.forSignIn(o.id)).toEqual({
      connection: o,
      saml: null,
      oidc: {
        id: o.id,
        tenantId: tenant.id,
        issuer: 'https://accounts.google.com',
        clientId: 'cid',
        clientSecret: 'shh-secret-1',
        scopes: ['openid', 'email', 'profile'],
        redirectUri: `${ISSUER}/v1/auth/sso/oidc/${o.id}/callback`,
      },
    });
    expect(JSON.stringify(o)).not.toContain('shh-secret-1');
    expect((await service.listEnabled(tenant.id)).map((c) => c.id)).toEqual([o.id]);
  });
});
