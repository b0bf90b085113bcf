import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorCode, Namespace } from '@tenantry/contracts';
import {
  cleanupNamespace,
  elementsNamed,
  freePort,
  generateSamlKeyPair,
  LOCAL_INFRA,
  parseXml,
  samlResponseXml,
  serializeXml,
  signXmlElement,
  testNamespace,
  TestSamlIdp,
  toSamlResponse,
  type SamlKeyPair,
  type SamlResponseOptions,
  type SamlTestUser,
} from '@tenantry/testing';
import type { Document, Element } from '@xmldom/xmldom';
import { Redis } from 'ioredis';
import { SamlLogin } from '../src/saml/saml-login.js';
import { SamlStateStore } from '../src/saml/saml-state.store.js';
import { SsoRejected, type SamlConnectionConfig } from '../src/sso/sso.types.js';

/**
 * The SAML service provider (`SamlLogin`) against a real IdP (samlify, started by the test)
 * and the real Redis: SP-initiated and IdP-initiated sign-in, encrypted assertions, key
 * rotation, then the attack catalogue, each refused with its reason.
 */
describe('SAML service provider', () => {
  const ns = testNamespace();
  let redis: Redis;
  let idp: TestSamlIdp;
  let spKeys: SamlKeyPair;
  let login: SamlLogin;

  beforeAll(async () => {
    redis = new Redis(LOCAL_INFRA.redisUrl, { keyPrefix: new Namespace(ns).redisPrefix() });
    [idp, spKeys] = await Promise.all([TestSamlIdp.start(), generateSamlKeyPair('tenantry-sp')]);
    login = new SamlLogin(new SamlStateStore(redis));
  });

  afterAll(async () => {
    await idp?.close();
    redis?.disconnect();
    await cleanupNamespace(ns);
  });

  const alice: SamlTestUser = {
    nameId: 'alice@corp.example',
    email: 'alice@corp.example',
    attributes: { groups: ['engineering', 'admins'], displayName: 'Alice Example' },
  };

  /** A connection of its own (own id, SP entity ID and ACS), trusted by the IdP. */
  function connection(overrides: Partial<SamlConnectionConfig> = {}): SamlConnectionConfig {
    const id = randomUUID();
    const conn: SamlConnectionConfig = {
      id,
      tenantId: randomUUID(),
      idp: { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.certificatePem] },
      sp: {
        entityId: `https://sso.tenantry.test/saml/${id}`,
        acsUrl: `https://sso.tenantry.test/v1/auth/sso/saml/${id}/acs`,
        privateKey: spKeys.privateKey,
        certificate: spKeys.certificate,
      },
      allowIdpInitiated: false,
      requireEncryptedAssertions: false,
      clockSkewSeconds: 60,
      ...overrides,
    };
    idp.trustSp({
      entityId: conn.sp.entityId,
      acsUrl: conn.sp.acsUrl,
      certificate: spKeys.certificate,
    });
    return conn;
  }

  async function signIn(
    conn: SamlConnectionConfig,
    user: SamlTestUser = alice,
    options: SamlResponseOptions = {},
    returnTo?: string,
  ) {
    const { redirectUrl } = await login.start(conn, returnTo);
    const answer = await idp.respondTo(redirectUrl, user, options);
    return login.complete(conn, answer.samlResponse, answer.relayState);
  }

  async function refusal(work: Promise<unknown>): Promise<SsoRejected> {
    try {
      await work;
    } catch (error) {
      if (error instanceof SsoRejected) return error;
      throw error;
    }
    throw new Error('the SAML response was accepted');
  }

  it('sends a signed AuthnRequest and accepts the signed answer, returning the assertion and returnTo', async () => {
    const conn = connection();
    const { redirectUrl } = await login.start(conn, 'https://app.corp.example/after');

    const url = new URL(redirectUrl);
    expect(`${url.origin}${url.pathname}`).toBe(idp.ssoUrl);
    expect(url.searchParams.get('SigAlg')).toBe(
      'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    );
    expect(url.searchParams.get('Signature')).toBeTruthy();
    const relayState = url.searchParams.get('RelayState')!;
    expect(relayState).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(relayState).not.toContain('app.corp.example');

    // The IdP verifies the request's signature with the SP certificate and reads it.
    await expect(
      idp.readRequest(redirectUrl.replace(/Signature=[^&]+/, 'Signature=AAAA')),
    ).rejects.toThrow(/SIGNATURE/);
    const answer = await idp.respondTo(redirectUrl, alice);
    expect(answer.request).toMatchObject({
      issuer: conn.sp.entityId,
      acsUrl: conn.sp.acsUrl,
      relayState,
    });
    expect(answer.relayState).toBe(relayState);

    const result = await login.complete(conn, answer.samlResponse, answer.relayState);
    expect(result).toEqual({
      identity: {
        issuer: idp.entityId,
        assertionId: expect.stringMatching(/^_/),
        nameId: 'alice@corp.example',
        nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        sessionIndex: expect.stringMatching(/^_/),
        attributes: {
          email: ['alice@corp.example'],
          groups: ['engineering', 'admins'],
          displayName: ['Alice Example'],
        },
      },
      returnTo: 'https://app.corp.example/after',
      idpInitiated: false,
    });
    expect(samlResponseXml(answer.samlResponse)).toContain(`InResponseTo="${answer.request.id}"`);
  });

  it('follows the flow over HTTP: the IdP’s SSO endpoint answers with a form posting to the ACS', async () => {
    const conn = connection();
    const { redirectUrl } = await login.start(conn, undefined);
    idp.signInAs({ nameId: 'bob@corp.example', email: 'bob@corp.example' });
    const page = await fetch(redirectUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    const field = (name: string) =>
      new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]?.replace(/&amp;/g, '&');
    expect(html).toContain(`action="${conn.sp.acsUrl}"`);

    const result = await login.complete(conn, field('SAMLResponse')!, field('RelayState'));
    expect(result.identity.nameId).toBe('bob@corp.example');
    expect(result.returnTo).toBeUndefined();
    const metadata = await (await fetch(idp.metadataUrl)).text();
    expect(metadata).toContain(`entityID="${idp.entityId}"`);
  });

  it('refuses an IdP-initiated response unless the connection allows it, then returns its RelayState', async () => {
    const closed = connection();
    const unsolicited = await idp.idpInitiated(closed.sp.acsUrl, closed.sp.entityId, alice, {
      relayState: 'https://app.corp.example/deep',
    });
    expect(
      await refusal(login.complete(closed, unsolicited.samlResponse, unsolicited.relayState)),
    ).toMatchObject({ reason: 'unsolicited' });

    const open = connection({ allowIdpInitiated: true });
    const answer = await idp.idpInitiated(open.sp.acsUrl, open.sp.entityId, alice, {
      relayState: 'https://app.corp.example/deep',
    });
    const result = await login.complete(open, answer.samlResponse, answer.relayState);
    expect(result).toMatchObject({
      identity: { nameId: 'alice@corp.example', issuer: idp.entityId },
      idpInitiated: true,
      returnTo: undefined,
      relayState: 'https://app.corp.example/deep',
    });
    // SP-initiated sign-in still works (and still checks InResponseTo) on such a connection.
    expect((await signIn(open)).idpInitiated).toBe(false);
  });

  it('decrypts an encrypted assertion, and refuses a clear one when encryption is required', async () => {
    const conn = connection({ requireEncryptedAssertions: true });
    const { redirectUrl } = await login.start(conn, undefined);
    const answer = await idp.respondTo(redirectUrl, alice, { encryptTo: conn.sp.certificate });
    const xml = samlResponseXml(answer.samlResponse);
    expect(xml).toContain('EncryptedAssertion');
    expect(xml).not.toContain('alice@corp.example');
    const result = await login.complete(conn, answer.samlResponse, answer.relayState);
    expect(result.identity).toMatchObject({
      nameId: 'alice@corp.example',
      attributes: { groups: ['engineering', 'admins'] },
    });

    expect(await refusal(signIn(conn))).toMatchObject({ reason: 'encryption_required' });

    const other = await generateSamlKeyPair('someone-else');
    expect(await refusal(signIn(conn, alice, { encryptTo: other.certificate }))).toMatchObject({
      reason: 'decryption_failed',
    });
  });

  it('accepts a signature by any of the connection’s certificates (IdP key rotation)', async () => {
    const rotating = await TestSamlIdp.start();
    try {
      const oldCertificate = rotating.certificatePem;
      const both = connection();
      both.idp = {
        entityId: rotating.entityId,
        ssoUrl: rotating.ssoUrl,
        certificates: [oldCertificate],
      };
      rotating.trustSp({
        entityId: both.sp.entityId,
        acsUrl: both.sp.acsUrl,
        certificate: spKeys.certificate,
      });
      const viaRotating = async (conn: SamlConnectionConfig) => {
        const { redirectUrl } = await login.start(conn, undefined);
        const answer = await rotating.respondTo(redirectUrl, alice);
        return login.complete(conn, answer.samlResponse, answer.relayState);
      };
      expect((await viaRotating(both)).identity.nameId).toBe('alice@corp.example');

      const newCertificate = await rotating.rotateKey();
      expect(await refusal(viaRotating(both))).toMatchObject({ reason: 'signature_invalid' });
      both.idp.certificates = [oldCertificate, newCertificate];
      expect((await viaRotating(both)).identity.nameId).toBe('alice@corp.example');
      both.idp.certificates = [newCertificate];
      expect((await viaRotating(both)).identity.nameId).toBe('alice@corp.example');
    } finally {
      await rotating.close();
    }
  });

  it('answers 503 (not a refusal) while Redis is away', async () => {
    const conn = connection({ allowIdpInitiated: true });
    const answer = await idp.idpInitiated(conn.sp.acsUrl, conn.sp.entityId, alice);
    const away = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      const offline = new SamlLogin(new SamlStateStore(away));
      await expect(offline.start(conn, undefined)).rejects.toMatchObject({
        code: ErrorCode.ServiceUnavailable,
      });
      await expect(offline.complete(conn, answer.samlResponse, undefined)).rejects.toMatchObject({
        code: ErrorCode.ServiceUnavailable,
      });
    } finally {
      away.disconnect();
    }
    // Nothing was consumed: the same response is accepted once Redis answers.
    expect((await login.complete(conn, answer.samlResponse, undefined)).idpInitiated).toBe(true);
  });

  describe('attack catalogue', () => {
    /** The attacker: a real account at the IdP, whose genuine responses get tampered with. */
    const mallory: SamlTestUser = {
      nameId: 'ceo@corp.example.mallory.test',
      email: 'ceo@corp.example.mallory.test',
    };
    const VICTIM = 'ceo@corp.example';
    const RESPONDER = 'urn:oasis:names:tc:SAML:2.0:status:Responder';
    const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

    /** A genuine answer to a fresh request of `conn`, for the attacker's own account. */
    async function genuine(
      conn: SamlConnectionConfig,
      options: SamlResponseOptions = {},
      user: SamlTestUser = mallory,
    ) {
      const { redirectUrl } = await login.start(conn, undefined);
      const answer = await idp.respondTo(redirectUrl, user, options);
      return { xml: answer.xml, relayState: answer.relayState, requestId: answer.request.id };
    }

    const post = (conn: SamlConnectionConfig, xml: string, relayState?: string) =>
      refusal(login.complete(conn, toSamlResponse(xml), relayState));

    const reasonOf = async (conn: SamlConnectionConfig, xml: string, relayState?: string) =>
      (await post(conn, xml, relayState)).reason;

    /** The response, its (first) assertion, and the assertion's signature. */
    function pieces(xml: string) {
      const doc = parseXml(xml);
      const response = doc.documentElement!;
      const assertion = elementsNamed(doc, 'Assertion')[0]!;
      const signature = Array.from(assertion.childNodes).find(
        (n): n is Element => (n as Element).localName === 'Signature',
      )!;
      return { doc, response, assertion, signature };
    }

    /** A copy of the assertion saying the victim signed in: new ID, no signature. */
    function evilCopy(assertion: Element, keepSignature = false): Element {
      const evil = assertion.cloneNode(true) as Element;
      evil.setAttribute('ID', '_evil');
      elementsNamed(evil, 'NameID')[0]!.textContent = VICTIM;
      if (!keepSignature) {
        for (const sig of elementsNamed(evil, 'Signature')) sig.parentNode!.removeChild(sig);
      }
      return evil;
    }

    function dsObject(doc: Document, content: Element): Element {
      const object = doc.createElementNS(DSIG, 'ds:Object');
      object.appendChild(content);
      return object;
    }

    describe('signatures', () => {
      it('refuses an unsigned assertion', async () => {
        const conn = connection();
        const { xml, relayState } = await genuine(conn, { signAssertion: false });
        expect(xml).not.toContain('Signature');
        expect(await reasonOf(conn, xml, relayState)).toBe('signature_invalid');
      });

      it('refuses an unsigned assertion in a signed response (the response signature is not enough)', async () => {
        const conn = connection();
        const { xml, relayState } = await genuine(conn, {
          signAssertion: false,
          signResponse: true,
        });
        expect(elementsNamed(parseXml(xml), 'Signature')).toHaveLength(1);
        expect(await reasonOf(conn, xml, relayState)).toBe('signature_invalid');
      });

      it('refuses a signed assertion whose content was changed', async () => {
        const conn = connection();
        const { xml, relayState } = await genuine(conn);
        const { doc } = pieces(xml);
        elementsNamed(doc, 'NameID')[0]!.textContent = VICTIM;
        expect(await reasonOf(conn, serializeXml(doc), relayState)).toBe('signature_invalid');
      });

      it('refuses an assertion signed by another key, even one whose certificate rides in its KeyInfo', async () => {
        const conn = connection();
        const attacker = await generateSamlKeyPair('mallory');
        const other = await genuine(conn, { signWith: attacker });
        expect(other.xml).toContain(certificateBody(attacker.certificate));
        expect(await reasonOf(conn, other.xml, other.relayState)).toBe('signature_invalid');

        // Re-signed by hand with the attacker's key, KeyInfo naming the attacker's certificate…
        const victim = await genuine(conn);
        const { doc, assertion } = pieces(victim.xml);
        const evil = evilCopy(assertion);
        doc.documentElement!.replaceChild(evil, assertion);
        const resigned = signXmlElement(serializeXml(doc), 'Assertion', attacker);
        expect(resigned).toContain(certificateBody(attacker.certificate));
        expect(await reasonOf(conn, resigned, victim.relayState)).toBe('signature_invalid');

        // …or the IdP's genuine certificate (with the attacker's key).
        const again = await genuine(conn);
        const parts = pieces(again.xml);
        parts.response.replaceChild(evilCopy(parts.assertion), parts.assertion);
        const lying = signXmlElement(serializeXml(parts.doc), 'Assertion', {
          privateKey: attacker.privateKey,
          certificate: idp.certificatePem,
        });
        expect(await reasonOf(conn, lying, again.relayState)).toBe('signature_invalid');
      });

      it('refuses an evil assertion carrying the genuine signature (moved, referencing the removed original)', async () => {
        const conn = connection();
        const { xml, relayState } = await genuine(conn);
        const { response, assertion, signature } = pieces(xml);
        const evil = evilCopy(assertion);
        evil.insertBefore(signature.cloneNode(true), elementsNamed(evil, 'Subject')[0]!);
        response.replaceChild(evil, assertion);
        expect(await reasonOf(conn, serializeXml(response), relayState)).toBe('signature_invalid');
      });

      it('refuses every signature-wrapping shape (XSW1–XSW8): the signed assertion hidden elsewhere', async () => {
        const conn = connection();
        type Wrap = (parts: ReturnType<typeof pieces>) => Document;
        const shapes: Record<string, [SamlResponseOptions, Wrap]> = {
          // XSW1: a new root response with the evil assertion; the signed original inside its signature.
          XSW1: [
            { signResponse: true },
            ({ doc, response }) => {
              const root = response.cloneNode(true) as Element;
              root.setAttribute('ID', '_evil-response');
              const assertion = elementsNamed(root, 'Assertion')[0]!;
              root.replaceChild(evilCopy(assertion), assertion);
              const rootSig = Array.from(root.childNodes).find(
                (n): n is Element => (n as Element).localName === 'Signature',
              )!;
              rootSig.appendChild(dsObject(doc, response.cloneNode(true) as Element));
              doc.replaceChild(root, response);
              return doc;
            },
          ],
          // XSW2: the same, the signed original as a detached sibling before the signature.
          XSW2: [
            { signResponse: true },
            ({ doc, response }) => {
              const root = response.cloneNode(true) as Element;
              root.setAttribute('ID', '_evil-response');
              const assertion = elementsNamed(root, 'Assertion')[0]!;
              root.replaceChild(evilCopy(assertion), assertion);
              const rootSig = Array.from(root.childNodes).find(
                (n): n is Element => (n as Element).localName === 'Signature',
              )!;
              root.insertBefore(response.cloneNode(true), rootSig);
              doc.replaceChild(root, response);
              return doc;
            },
          ],
          // XSW3: the evil assertion before the signed one, both children of the response.
          XSW3: [
            {},
            ({ doc, response, assertion }) => {
              response.insertBefore(evilCopy(assertion), assertion);
              return doc;
            },
          ],
          // XSW4: the evil assertion in place of the signed one, which is moved inside it.
          XSW4: [
            {},
            ({ doc, response, assertion }) => {
              const evil = evilCopy(assertion);
              response.replaceChild(evil, assertion);
              evil.appendChild(assertion);
              return doc;
            },
          ],
          // XSW5: the evil assertion keeps the original signature; the original is appended at the end.
          XSW5: [
            {},
            ({ doc, response, assertion }) => {
              const evil = evilCopy(assertion, true);
              evil.setAttribute('ID', assertion.getAttribute('ID')!);
              response.replaceChild(evil, assertion);
              for (const sig of elementsNamed(assertion, 'Signature')) assertion.removeChild(sig);
              response.appendChild(assertion);
              return doc;
            },
          ],
          // XSW6: the evil assertion keeps the signature; the original sits inside that signature.
          XSW6: [
            {},
            ({ doc, response, assertion }) => {
              const evil = evilCopy(assertion, true);
              response.replaceChild(evil, assertion);
              const sig = elementsNamed(evil, 'Signature')[0]!;
              for (const inner of elementsNamed(assertion, 'Signature'))
                assertion.removeChild(inner);
              sig.appendChild(dsObject(doc, assertion));
              return doc;
            },
          ],
          // XSW7: the signed original in an Extensions element; the evil assertion beside it.
          XSW7: [
            {},
            ({ doc, response, assertion }) => {
              const extensions = doc.createElementNS(
                'urn:oasis:names:tc:SAML:2.0:protocol',
                'samlp:Extensions',
              );
              response.replaceChild(evilCopy(assertion), assertion);
              extensions.appendChild(assertion);
              response.insertBefore(extensions, elementsNamed(response, 'Status')[0]!);
              return doc;
            },
          ],
          // XSW8: the evil assertion keeps the signature; an Object in it holds the unsigned original.
          XSW8: [
            {},
            ({ doc, response, assertion }) => {
              const evil = evilCopy(assertion, true);
              evil.setAttribute('ID', assertion.getAttribute('ID')!);
              response.replaceChild(evil, assertion);
              for (const sig of elementsNamed(assertion, 'Signature')) assertion.removeChild(sig);
              elementsNamed(evil, 'Signature')[0]!.appendChild(dsObject(doc, assertion));
              return doc;
            },
          ],
        };
        const reasons: Record<string, string> = {};
        for (const [name, [options, wrap]] of Object.entries(shapes)) {
          const { xml, relayState } = await genuine(conn, options);
          const wrapped = serializeXml(wrap(pieces(xml)));
          expect(wrapped).toContain(`>${VICTIM}<`);
          reasons[name] = await reasonOf(conn, wrapped, relayState);
        }
        expect(reasons).toEqual(
          Object.fromEntries(Object.keys(shapes).map((name) => [name, 'multiple_assertions'])),
        );
      });
    });

    describe('addressing', () => {
      it('refuses a wrong audience, recipient or destination, and a signed response without destination', async () => {
        const conn = connection();
        const cases: [SamlResponseOptions, string][] = [
          [{ audience: 'https://other-sp.example/saml' }, 'audience_mismatch'],
          [{ recipient: 'https://other-sp.example/acs' }, 'recipient_mismatch'],
          [{ destination: 'https://other-sp.example/acs' }, 'destination_mismatch'],
          [{ signResponse: true, destination: null }, 'destination_mismatch'],
        ];
        for (const [options, reason] of cases) {
          const { xml, relayState } = await genuine(conn, options);
          expect(await reasonOf(conn, xml, relayState)).toBe(reason);
        }
      });

      it('refuses an assertion the IdP made for another service provider', async () => {
        const conn = connection({ allowIdpInitiated: true });
        const otherSp = connection({ allowIdpInitiated: true });
        const forOther = await idp.idpInitiated(otherSp.sp.acsUrl, otherSp.sp.entityId, mallory);
        expect(await reasonOf(conn, forOther.xml)).toBe('destination_mismatch');
        // The response itself is not signed: the attacker can drop its Destination.
        const { doc, response } = pieces(forOther.xml);
        response.removeAttribute('Destination');
        expect(await reasonOf(conn, serializeXml(doc))).toBe('audience_mismatch');
        // It still works where it belongs.
        const accepted = await login.complete(otherSp, forOther.samlResponse, undefined);
        expect(accepted.identity.nameId).toBe(mallory.nameId);
      });

      it('refuses a response or assertion from another issuer', async () => {
        const conn = connection();
        const both = await genuine(conn, { issuer: 'https://evil-idp.example' });
        expect(await reasonOf(conn, both.xml, both.relayState)).toBe('issuer_mismatch');
        // The Response's Issuer is optional: the signed assertion's Issuer is checked too.
        const assertionOnly = await genuine(conn, {
          issuer: 'https://evil-idp.example',
          responseIssuer: null,
        });
        const refused = await post(conn, assertionOnly.xml, assertionOnly.relayState);
        expect(refused.reason).toBe('issuer_mismatch');
        expect(refused.message).toContain('assertion was issued by');
      });
    });

    describe('time', () => {
      it('refuses an expired or not yet valid assertion, and accepts one within the clock skew', async () => {
        const conn = connection({ clockSkewSeconds: 60, allowIdpInitiated: true });
        // Valid for 300 s: shifted 400 s back it ended 100 s ago, shifted 330 s back 30 s ago.
        const outcome = async (options: SamlResponseOptions) => {
          const { xml, relayState } = await genuine(conn, options);
          try {
            await login.complete(conn, toSamlResponse(xml), relayState);
            return 'accepted';
          } catch (error) {
            if (error instanceof SsoRejected) return error.reason;
            throw error;
          }
        };
        expect(await outcome({ shiftSeconds: -400 })).toBe('expired');
        expect(await outcome({ shiftSeconds: -330 })).toBe('accepted');
        expect(await outcome({ shiftSeconds: 120 })).toBe('not_yet_valid');
        expect(await outcome({ shiftSeconds: 30 })).toBe('accepted');
        // Unsolicited: node-saml skips subject confirmations then; ours are still checked.
        const old = await idp.idpInitiated(conn.sp.acsUrl, conn.sp.entityId, mallory, {
          shiftSeconds: -400,
        });
        expect(await reasonOf(conn, old.xml)).toBe('expired');
        const staleConfirmation = await idp.idpInitiated(
          conn.sp.acsUrl,
          conn.sp.entityId,
          mallory,
          {
            shiftSeconds: -200,
            confirmationValidForSeconds: 100,
          },
        );
        expect(await reasonOf(conn, staleConfirmation.xml)).toBe('expired');
      });
    });

    describe('replay and request binding', () => {
      it('accepts an assertion once, even when two copies arrive together', async () => {
        const conn = connection({ allowIdpInitiated: true });
        const answer = await idp.idpInitiated(conn.sp.acsUrl, conn.sp.entityId, mallory);
        await login.complete(conn, answer.samlResponse, undefined);
        expect(await reasonOf(conn, answer.xml)).toBe('replayed');

        const twice = await idp.idpInitiated(conn.sp.acsUrl, conn.sp.entityId, mallory);
        const results = await Promise.allSettled([
          login.complete(conn, twice.samlResponse, undefined),
          login.complete(conn, twice.samlResponse, undefined),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
        expect(failed.reason).toMatchObject({ reason: 'replayed' });
      });

      it('refuses a replayed SP-initiated response, and an assertion ID seen before in a new response', async () => {
        const conn = connection();
        const { redirectUrl } = await login.start(conn, undefined);
        const answer = await idp.respondTo(redirectUrl, mallory, {
          assertionId: '_fixed-assertion-id',
        });
        await login.complete(conn, answer.samlResponse, answer.relayState);
        expect(await reasonOf(conn, answer.xml, answer.relayState)).toBe('in_response_to_unknown');

        const again = await genuine(conn, { assertionId: '_fixed-assertion-id' });
        expect(await reasonOf(conn, again.xml, again.relayState)).toBe('replayed');
      });

      it('refuses an unknown InResponseTo, a request of another connection, and a missing or foreign RelayState', async () => {
        const conn = connection();
        const unknown = await genuine(conn, { inResponseTo: '_never-requested' });
        expect(await reasonOf(conn, unknown.xml, unknown.relayState)).toBe(
          'in_response_to_unknown',
        );

        const other = connection();
        const { redirectUrl } = await login.start(other, undefined);
        const requestOfOther = (await idp.readRequest(redirectUrl)).id;
        const crossed = await idp.idpInitiated(conn.sp.acsUrl, conn.sp.entityId, mallory, {
          inResponseTo: requestOfOther,
        });
        expect(await reasonOf(conn, crossed.xml)).toBe('in_response_to_unknown');

        const first = await genuine(conn);
        const second = await genuine(conn);
        expect(await reasonOf(conn, first.xml)).toBe('relay_state_unknown');
        expect(await reasonOf(conn, second.xml, first.relayState)).toBe('relay_state_unknown');
      });
    });

    describe('message shape', () => {
      it('refuses a comment or processing instruction inside the NameID or the email (truncation)', async () => {
        const conn = connection();
        const inserts = ['<!---->', '<!-- cut -->', '<?truncate here?>'];
        for (const insert of inserts) {
          const { xml, relayState } = await genuine(conn);
          const cut = xml.replace(
            `>${mallory.nameId}</saml:NameID>`,
            `>${VICTIM}${insert}.mallory.test</saml:NameID>`,
          );
          expect(cut).not.toBe(xml);
          expect(await reasonOf(conn, cut, relayState)).toBe('markup_in_value');
        }
        const { xml, relayState } = await genuine(conn);
        const cutEmail = xml.replace(
          `>${mallory.email}</saml:AttributeValue>`,
          `>${VICTIM}<!---->.mallory.test</saml:AttributeValue>`,
        );
        expect(cutEmail).not.toBe(xml);
        expect(await reasonOf(conn, cutEmail, relayState)).toBe('markup_in_value');
      });

      it('refuses any DOCTYPE: external entities, entity expansion, external DTDs', async () => {
        const conn = connection();
        const { xml, relayState } = await genuine(conn);
        const body = xml.replace(/^<\?xml[^>]*\?>/, '');
        const withNameId = (value: string) => body.replace(`>${mallory.nameId}<`, `>${value}<`);
        const laughs =
          '<!DOCTYPE r [<!ENTITY lol "lol">' +
          Array.from({ length: 9 }, (_, i) => {
            const previous = i === 0 ? 'lol' : `lol${i}`;
            return `<!ENTITY lol${i + 1} "${`&${previous};`.repeat(10)}">`;
          }).join('') +
          ']>';
        const attacks = [
          '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + withNameId('&xxe;'),
          laughs + withNameId('&lol9;'),
          '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">' + body,
          '<?xml version="1.0"?>\n<!doctype r [<!entity e "ceo@corp.example">]>' +
            withNameId('&e;'),
        ];
        for (const attack of attacks) {
          expect(await reasonOf(conn, attack, relayState)).toBe('doctype_forbidden');
        }
      });

      it('refuses a signed error response, even with a genuine signed assertion injected', async () => {
        const conn = connection();
        const failure = await genuine(conn, { statusCode: RESPONDER, signResponse: true });
        expect(await reasonOf(conn, failure.xml, failure.relayState)).toBe('status_not_success');

        const error = await genuine(conn, { statusCode: RESPONDER, signResponse: true });
        const success = await genuine(conn);
        const target = pieces(error.xml);
        target.response.replaceChild(pieces(success.xml).assertion, target.assertion);
        expect(await reasonOf(conn, serializeXml(target.doc), error.relayState)).toBe(
          'status_not_success',
        );
      });

      it('refuses two assertions, even both genuinely signed, or one clear and one encrypted', async () => {
        const conn = connection();
        const first = await genuine(conn);
        const second = await genuine(conn);
        const { doc, response } = pieces(first.xml);
        response.appendChild(pieces(second.xml).assertion);
        expect(await reasonOf(conn, serializeXml(doc), first.relayState)).toBe(
          'multiple_assertions',
        );

        const clear = await genuine(conn);
        const encrypted = await genuine(conn, { encryptTo: conn.sp.certificate });
        const mixed = pieces(clear.xml);
        mixed.response.appendChild(
          elementsNamed(parseXml(encrypted.xml), 'EncryptedAssertion')[0]!,
        );
        expect(await reasonOf(conn, serializeXml(mixed.doc), clear.relayState)).toBe(
          'multiple_assertions',
        );
      });

      it('refuses what is not a SAML response', async () => {
        const conn = connection();
        const notBase64 = await refusal(login.complete(conn, 'not base64!', undefined));
        expect(notBase64.reason).toBe('malformed');
        expect(await reasonOf(conn, 'hello, not XML')).toBe('malformed');
        expect(
          await reasonOf(
            conn,
            '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x"/>',
          ),
        ).toBe('malformed');
        const { xml, relayState } = await genuine(conn);
        const { doc, response, assertion } = pieces(xml);
        response.removeChild(assertion);
        expect(await reasonOf(conn, serializeXml(doc), relayState)).toBe('malformed');
      });

      it('answers every failure of an encrypted assertion alike (no decryption oracle)', async () => {
        const conn = connection({ requireEncryptedAssertions: true });
        const attacker = await generateSamlKeyPair('mallory');
        const wrongKey = await genuine(conn, {
          encryptTo: conn.sp.certificate,
          signWith: attacker,
        });
        const wrongCert = await genuine(conn, { encryptTo: attacker.certificate });
        const garbled = await genuine(conn, { encryptTo: conn.sp.certificate });
        const doc = parseXml(garbled.xml);
        const cipher = elementsNamed(doc, 'CipherValue').at(-1)!;
        cipher.textContent = Buffer.from(randomBytes(96)).toString('base64');
        const refusals = [
          await post(conn, wrongKey.xml, wrongKey.relayState),
          await post(conn, wrongCert.xml, wrongCert.relayState),
          await post(conn, serializeXml(doc), garbled.relayState),
        ];
        expect(new Set(refusals.map((r) => `${r.reason}: ${r.message}`)).size).toBe(1);
        expect(refusals[0]!.reason).toBe('decryption_failed');
      });
    });
  });
});

function certificateBody(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----|\s/g, '').slice(0, 60);
}
