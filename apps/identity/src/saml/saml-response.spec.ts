import { SsoRejected, type SamlConnectionConfig } from '../sso/sso.types.js';
import {
  decodeSamlResponse,
  inspectResponse,
  parseSamlXml,
  plainText,
  readVerifiedAssertion,
} from './saml-response.js';

const conn: SamlConnectionConfig = {
  id: 'conn-1',
  tenantId: 'tenant-1',
  idp: { entityId: 'https://idp.example', ssoUrl: 'https://idp.example/sso', certificates: [] },
  sp: {
    entityId: 'https://sp.example/saml',
    acsUrl: 'https://sp.example/acs',
    privateKey: '',
    certificate: '',
  },
  allowIdpInitiated: false,
  requireEncryptedAssertions: false,
  clockSkewSeconds: 60,
};

const P = 'urn:oasis:names:tc:SAML:2.0:protocol';
const A = 'urn:oasis:names:tc:SAML:2.0:assertion';
const NOW = Date.parse('2030-01-01T12:00:00Z');
const at = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();

function reasonOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (error instanceof SsoRejected) return error.reason;
    throw error;
  }
  return 'accepted';
}

interface AssertionShape {
  issuer?: string;
  nameId?: string;
  recipient?: string;
  audience?: string;
  confirmationNotOnOrAfter?: string;
  notBefore?: string;
  notOnOrAfter?: string;
  inResponseTo?: string;
  attributes?: string;
}

function assertionXml(shape: AssertionShape = {}): string {
  const irt = shape.inResponseTo ? ` InResponseTo="${shape.inResponseTo}"` : '';
  return (
    `<saml:Assertion xmlns:saml="${A}" ID="_a1" Version="2.0" IssueInstant="${at(0)}">` +
    `<saml:Issuer>${shape.issuer ?? 'https://idp.example'}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${shape.nameId ?? 'alice@example.com'}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${shape.confirmationNotOnOrAfter ?? at(300)}" Recipient="${shape.recipient ?? 'https://sp.example/acs'}"${irt}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${shape.notBefore ?? at(0)}" NotOnOrAfter="${shape.notOnOrAfter ?? at(300)}"><saml:AudienceRestriction><saml:Audience>${shape.audience ?? 'https://sp.example/saml'}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${at(0)}" SessionIndex="_s1"/>` +
    (shape.attributes ?? '') +
    `</saml:Assertion>`
  );
}

function responseXml(
  body = assertionXml(),
  {
    attrs = 'Destination="https://sp.example/acs" InResponseTo="_req1"',
    status = 'Success',
    issuer = 'https://idp.example',
  } = {},
): string {
  return (
    `<samlp:Response xmlns:samlp="${P}" xmlns:saml="${A}" ID="_r1" Version="2.0" IssueInstant="${at(0)}" ${attrs}>` +
    (issuer ? `<saml:Issuer>${issuer}</saml:Issuer>` : '') +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:${status}"/></samlp:Status>` +
    body +
    `</samlp:Response>`
  );
}

const inspect =
  (xml: string, c: SamlConnectionConfig = conn) =>
  () =>
    inspectResponse(parseSamlXml(xml), c);

const read = (
  xml: string,
  expected: { inResponseTo?: string | null; nameId?: string; now?: number } = {},
) =>
  readVerifiedAssertion(xml, conn, {
    inResponseTo: expected.inResponseTo === undefined ? null : expected.inResponseTo,
    nameIdReadByNodeSaml: expected.nameId ?? 'alice@example.com',
    now: expected.now ?? NOW,
  });

describe('SAML response checks made before node-saml', () => {
  it('decodes base64 as node-saml does, refusing anything else', () => {
    const xml = responseXml();
    expect(decodeSamlResponse(Buffer.from(xml).toString('base64'))).toBe(xml);
    const wrapped = Buffer.from(xml)
      .toString('base64')
      .replace(/(.{76})/g, '$1\r\n');
    expect(decodeSamlResponse(wrapped)).toBe(xml);
    for (const bad of ['', 'not base64!', 'abc', '====', 'YWJj=ZA==']) {
      expect(reasonOf(() => decodeSamlResponse(bad))).toBe('malformed');
    }
  });

  it('refuses any DOCTYPE or ENTITY declaration, whatever its case, before parsing', () => {
    for (const dtd of [
      '<!DOCTYPE r>',
      '<!doctype r [<!entity x "y">]>',
      '<!DocType r SYSTEM "http://evil.example/x.dtd">',
      '<!ENTITY x "y">',
    ]) {
      const b64 = Buffer.from(`<?xml version="1.0"?>${dtd}${responseXml()}`).toString('base64');
      expect(reasonOf(() => decodeSamlResponse(b64))).toBe('doctype_forbidden');
    }
  });

  it('parses strictly', () => {
    expect(reasonOf(() => parseSamlXml('<a><b></a>'))).toBe('malformed');
    expect(reasonOf(() => parseSamlXml('not xml'))).toBe('malformed');
    expect(reasonOf(() => parseSamlXml('<a xmlns:p="urn:x"><q:b/></a>'))).toBe('malformed');
  });

  it('reads InResponseTo and whether the response is signed or encrypted', () => {
    expect(inspect(responseXml())()).toEqual({
      responseId: '_r1',
      inResponseTo: '_req1',
      signed: false,
      encrypted: false,
    });
    expect(inspect(responseXml(assertionXml(), { attrs: '' }))()).toMatchObject({
      inResponseTo: null,
    });
  });

  it('refuses a non-Response, a non-success status even with an assertion, and a missing assertion', () => {
    expect(reasonOf(inspect(`<samlp:LogoutResponse xmlns:samlp="${P}"/>`))).toBe('malformed');
    expect(reasonOf(inspect(`<Response xmlns="urn:evil">${assertionXml()}</Response>`))).toBe(
      'malformed',
    );
    expect(reasonOf(inspect(responseXml(assertionXml(), { status: 'Responder' })))).toBe(
      'status_not_success',
    );
    expect(reasonOf(inspect(responseXml('')))).toBe('malformed');
  });

  it('refuses a second Assertion anywhere, in any namespace, or beside an EncryptedAssertion', () => {
    const two = responseXml(assertionXml() + assertionXml());
    expect(reasonOf(inspect(two))).toBe('multiple_assertions');
    const hidden = responseXml(
      assertionXml().replace(
        '</saml:Subject>',
        `</saml:Subject><x:Wrap xmlns:x="urn:x">${assertionXml()}</x:Wrap>`,
      ),
    );
    expect(reasonOf(inspect(hidden))).toBe('multiple_assertions');
    const otherNs = responseXml(assertionXml() + '<e:Assertion xmlns:e="urn:evil"/>');
    expect(reasonOf(inspect(otherNs))).toBe('multiple_assertions');
    const mixed = responseXml(assertionXml() + `<saml:EncryptedAssertion/>`);
    expect(reasonOf(inspect(mixed))).toBe('multiple_assertions');
  });

  it('requires encryption when the connection does', () => {
    const strict = { ...conn, requireEncryptedAssertions: true };
    expect(reasonOf(inspect(responseXml(), strict))).toBe('encryption_required');
    expect(inspect(responseXml('<saml:EncryptedAssertion/>'), strict)()).toMatchObject({
      encrypted: true,
    });
  });

  it('checks the Response Issuer (when present) and Destination (required when signed)', () => {
    expect(reasonOf(inspect(responseXml(assertionXml(), { issuer: 'https://evil.example' })))).toBe(
      'issuer_mismatch',
    );
    expect(reasonOf(inspect(responseXml(assertionXml(), { issuer: '' })))).toBe('accepted');
    expect(
      reasonOf(
        inspect(responseXml(assertionXml(), { attrs: 'Destination="https://evil.example/acs"' })),
      ),
    ).toBe('destination_mismatch');
    expect(reasonOf(inspect(responseXml(assertionXml(), { attrs: '' })))).toBe('accepted');
    const signedWithout = responseXml(
      `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>` + assertionXml(),
      { attrs: '' },
    );
    expect(reasonOf(inspect(signedWithout))).toBe('destination_mismatch');
  });

  it('refuses comments and processing instructions in the NameID and attribute values', () => {
    const attrs = (value: string) =>
      `<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>${value}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`;
    for (const shape of [
      { nameId: 'ceo@corp.example<!---->.evil.example' },
      { nameId: 'ceo@corp.example<?pi x?>.evil.example' },
      { attributes: attrs('ceo@corp.example<!-- -->.evil.example') },
    ]) {
      expect(reasonOf(inspect(responseXml(assertionXml(shape))))).toBe('markup_in_value');
    }
    expect(
      reasonOf(inspect(responseXml(assertionXml({ nameId: '<![CDATA[a@b.example]]>' })))),
    ).toBe('accepted');
  });
});

describe('checks of the assertion node-saml verified', () => {
  it('returns the assertion: issuer, IDs, NameID, session index and every attribute value', () => {
    const attributes =
      `<saml:AttributeStatement>` +
      `<saml:Attribute Name="email"><saml:AttributeValue>alice@example.com</saml:AttributeValue></saml:Attribute>` +
      `<saml:Attribute Name="groups"><saml:AttributeValue>a</saml:AttributeValue><saml:AttributeValue>b</saml:AttributeValue><saml:AttributeValue><x:complex xmlns:x="urn:x"/></saml:AttributeValue></saml:Attribute>` +
      `<saml:Attribute Name="empty"/>` +
      `</saml:AttributeStatement>`;
    expect(read(assertionXml({ attributes }))).toEqual({
      assertion: {
        issuer: 'https://idp.example',
        assertionId: '_a1',
        nameId: 'alice@example.com',
        nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        sessionIndex: '_s1',
        attributes: { email: ['alice@example.com'], groups: ['a', 'b'], empty: [] },
      },
      acceptableUntil: NOW + 300_000 + 60_000,
    });
  });

  it('remembers the assertion until the later of its NotOnOrAfters, plus the skew', () => {
    const result = read(assertionXml({ confirmationNotOnOrAfter: at(120), notOnOrAfter: at(600) }));
    expect(result.acceptableUntil).toBe(NOW + 600_000 + 60_000);
  });

  it('refuses another issuer, and a NameID that is not what node-saml read', () => {
    expect(reasonOf(() => read(assertionXml({ issuer: 'https://evil.example' })))).toBe(
      'issuer_mismatch',
    );
    expect(reasonOf(() => read(assertionXml(), { nameId: 'alice@example' }))).toBe(
      'markup_in_value',
    );
    expect(reasonOf(() => read(assertionXml({ nameId: 'a<?x?>b' }), { nameId: 'ab' }))).toBe(
      'markup_in_value',
    );
  });

  it('refuses another recipient or audience, and an assertion for another request', () => {
    expect(reasonOf(() => read(assertionXml({ recipient: 'https://evil.example/acs' })))).toBe(
      'recipient_mismatch',
    );
    expect(reasonOf(() => read(assertionXml({ audience: 'https://other.example' })))).toBe(
      'audience_mismatch',
    );
    expect(
      reasonOf(() => read(assertionXml({ inResponseTo: '_req1' }), { inResponseTo: '_req1' })),
    ).toBe('accepted');
    expect(
      reasonOf(() => read(assertionXml({ inResponseTo: '_req1' }), { inResponseTo: '_req2' })),
    ).toBe('in_response_to_unknown');
    expect(
      reasonOf(() => read(assertionXml({ inResponseTo: '_req1' }), { inResponseTo: null })),
    ).toBe('in_response_to_unknown');
  });

  it('checks both time windows with the clock skew', () => {
    const skew = 60_000;
    expect(reasonOf(() => read(assertionXml(), { now: NOW + 300_000 + skew - 1 }))).toBe(
      'accepted',
    );
    expect(reasonOf(() => read(assertionXml(), { now: NOW + 300_000 + skew }))).toBe('expired');
    expect(reasonOf(() => read(assertionXml(), { now: NOW - skew }))).toBe('accepted');
    expect(reasonOf(() => read(assertionXml(), { now: NOW - skew - 1 }))).toBe('not_yet_valid');
    // Subject confirmation over, Conditions still running.
    const stale = assertionXml({ confirmationNotOnOrAfter: at(10), notOnOrAfter: at(600) });
    expect(reasonOf(() => read(stale, { now: NOW + 100_000 }))).toBe('expired');
    expect(reasonOf(() => read(assertionXml({ notOnOrAfter: 'tomorrow' })))).toBe('malformed');
  });

  it('refuses what is not a usable assertion', () => {
    expect(reasonOf(() => read(`<x:Assertion xmlns:x="urn:evil" ID="_a"/>`))).toBe('malformed');
    expect(reasonOf(() => read(assertionXml({ nameId: '' }), { nameId: '' }))).toBe('malformed');
    const noBearer = assertionXml().replace('cm:bearer', 'cm:holder-of-key');
    expect(reasonOf(() => read(noBearer))).toBe('malformed');
    const noConditions = assertionXml().replace(/<saml:Conditions.*<\/saml:Conditions>/, '');
    expect(reasonOf(() => read(noConditions))).toBe('malformed');
  });

  it('reads text as written: plainText refuses comments and processing instructions only', () => {
    const el = parseSamlXml('<v>a<![CDATA[&b]]>c</v>').documentElement!;
    expect(plainText(el, 'v')).toBe('a&bc');
    const commented = parseSamlXml('<v>a<!--x-->c</v>').documentElement!;
    expect(reasonOf(() => plainText(commented, 'v'))).toBe('markup_in_value');
  });
});
