import {
  DOMParser,
  MIME_TYPE,
  Node,
  onWarningStopParsing,
  type Document,
  type Element,
} from '@xmldom/xmldom';
import type { SamlAssertion, SamlConnectionConfig } from '../sso/sso.types.js';
import { rejected, SamlRejectionReason as R } from './saml-rejection.js';

/**
 * The checks of a SAML login response that node-saml does not make (or makes only in some
 * configurations), as pure functions: before node-saml sees the response (`decodeSamlResponse`,
 * `parseSamlXml`, `inspectResponse`) and on the assertion whose signature node-saml verified
 * (`readVerifiedAssertion`). Each refuses with an `SsoRejected` naming what was wrong.
 */

export const SAML_NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

export const SAML_STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The XML of a SAMLResponse form field, exactly as node-saml decodes it (base64 → UTF-8).
 * Refuses what is not base64, and any DOCTYPE or ENTITY declaration, before any parser runs.
 */
export function decodeSamlResponse(samlResponse: string): string {
  const compact = samlResponse.replace(/\s+/g, '');
  if (!compact || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw rejected(R.Malformed, 'the SAMLResponse field is not base64');
  }
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  refuseDocumentTypeDeclarations(xml);
  return xml;
}

/** Refuses DTDs outright: SAML never needs one, and they carry XXE and entity expansion. */
export function refuseDocumentTypeDeclarations(xml: string): void {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw rejected(
      R.DoctypeForbidden,
      'the SAML response declares a DOCTYPE or an ENTITY, which SAML messages never contain',
    );
  }
}

/** Parses XML strictly: any warning or error of the parser refuses the message as malformed. */
export function parseSamlXml(xml: string): Document {
  try {
    const doc = new DOMParser({ onError: onWarningStopParsing }).parseFromString(
      xml,
      MIME_TYPE.XML_TEXT,
    );
    if (!doc.documentElement) throw new Error('no document element');
    return doc;
  } catch {
    throw rejected(R.Malformed, 'the SAML response is not well-formed XML');
  }
}

/** What the (not yet verified) Response says that the login flow acts on before node-saml runs. */
export interface ResponseFacts {
  responseId: string | null;
  inResponseTo: string | null;
  /** The Response carries its own enveloped signature. */
  signed: boolean;
  encrypted: boolean;
}

/**
 * Checks of the Response's structure, made before node-saml verifies anything: it is a
 * success Response, to our ACS, from our IdP, with exactly one (encrypted) assertion, no
 * other Assertion anywhere (signature wrapping hides the signed one elsewhere), encrypted
 * when the connection requires it, and no comment or processing instruction inside the
 * NameID or an attribute value (comments survive a signature; the text around them would be
 * read apart).
 */
export function inspectResponse(doc: Document, conn: SamlConnectionConfig): ResponseFacts {
  const root = doc.documentElement!;
  if (root.localName !== 'Response' || root.namespaceURI !== SAML_NS.protocol) {
    throw rejected(R.Malformed, 'the message is not a SAML 2.0 Response');
  }

  const status = firstChild(
    firstChild(root, SAML_NS.protocol, 'Status'),
    SAML_NS.protocol,
    'StatusCode',
  );
  const statusValue = status?.getAttribute('Value') ?? null;
  if (statusValue !== SAML_STATUS_SUCCESS) {
    const sub = firstChild(status, SAML_NS.protocol, 'StatusCode')?.getAttribute('Value');
    const detail = [statusValue, sub].filter(Boolean).join(' / ') || 'no status';
    throw rejected(
      R.StatusNotSuccess,
      `the identity provider did not sign the user in (status ${detail}); nothing in this response is used`,
    );
  }

  const everywhere = [
    ...elementsNamed(root, 'Assertion'),
    ...elementsNamed(root, 'EncryptedAssertion'),
  ];
  const direct = everywhere.filter(
    (el) => el.parentNode === root && el.namespaceURI === SAML_NS.assertion,
  );
  if (everywhere.length > 1) {
    throw rejected(
      R.MultipleAssertions,
      `the SAML response contains ${everywhere.length} assertions; exactly one is accepted`,
    );
  }
  if (direct.length !== 1) {
    throw rejected(R.Malformed, 'the SAML response carries no assertion');
  }
  const encrypted = direct[0]!.localName === 'EncryptedAssertion';
  if (conn.requireEncryptedAssertions && !encrypted) {
    throw rejected(
      R.EncryptionRequired,
      'this connection requires encrypted assertions and the assertion was sent in clear',
    );
  }

  const issuer = firstChild(root, SAML_NS.assertion, 'Issuer');
  if (issuer && issuer.textContent?.trim() !== conn.idp.entityId) {
    throw rejected(
      R.IssuerMismatch,
      `the response was issued by ${JSON.stringify(issuer.textContent)}, not by this connection's identity provider (${conn.idp.entityId})`,
    );
  }

  const signed = childElements(root).some(
    (el) => el.localName === 'Signature' && el.namespaceURI === SAML_NS.dsig,
  );
  const destination = root.getAttribute('Destination');
  if (destination !== null && destination !== '' && destination !== conn.sp.acsUrl) {
    throw rejected(
      R.DestinationMismatch,
      `the response is destined to ${JSON.stringify(destination)}, not to this connection's ACS URL (${conn.sp.acsUrl})`,
    );
  }
  if (signed && !destination) {
    throw rejected(
      R.DestinationMismatch,
      'a signed SAML response must name its Destination (this connection’s ACS URL)',
    );
  }

  if (!encrypted) refuseMarkupInValues(direct[0]!);

  const inResponseTo = root.getAttribute('InResponseTo');
  return {
    responseId: root.getAttribute('ID') || null,
    inResponseTo: inResponseTo ? inResponseTo : null,
    signed,
    encrypted,
  };
}

/** What a verified assertion said, and until when it must be remembered against replay. */
export interface VerifiedAssertion {
  assertion: SamlAssertion;
  /** Epoch ms after which the assertion can no longer be accepted (its NotOnOrAfter + skew). */
  acceptableUntil: number;
}

export interface AssertionExpectations {
  /** The Response's InResponseTo (null: IdP-initiated). */
  inResponseTo: string | null;
  /** The NameID as node-saml read it: must be the element's whole text. */
  nameIdReadByNodeSaml: string | undefined;
  now: number;
}

/**
 * Reads the assertion node-saml verified (the signed bytes, canonicalized, not the received
 * document) and checks what node-saml does not check, or checks only when InResponseTo is
 * required: the Issuer, a bearer SubjectConfirmation for our ACS (Recipient) within its
 * time window and answering the same request, the Conditions' window and audience, and that
 * the NameID and attribute values are plain text.
 */
export function readVerifiedAssertion(
  xml: string,
  conn: SamlConnectionConfig,
  expected: AssertionExpectations,
): VerifiedAssertion {
  const root = parseSamlXml(xml).documentElement!;
  if (root.localName !== 'Assertion' || root.namespaceURI !== SAML_NS.assertion) {
    throw rejected(R.Malformed, 'the signed element is not a SAML assertion');
  }
  const skewMs = Math.max(0, conn.clockSkewSeconds) * 1000;
  const assertionId = root.getAttribute('ID');
  if (!assertionId) throw rejected(R.Malformed, 'the assertion has no ID');

  const issuer = firstChild(root, SAML_NS.assertion, 'Issuer');
  const issuerValue = issuer ? plainText(issuer, 'Issuer').trim() : null;
  if (issuerValue !== conn.idp.entityId) {
    throw rejected(
      R.IssuerMismatch,
      `the assertion was issued by ${JSON.stringify(issuerValue)}, not by this connection's identity provider (${conn.idp.entityId})`,
    );
  }

  const subject = firstChild(root, SAML_NS.assertion, 'Subject');
  const nameIds = subject ? children(subject, SAML_NS.assertion, 'NameID') : [];
  if (nameIds.length !== 1) {
    throw rejected(R.Malformed, 'the assertion must name its subject with exactly one NameID');
  }
  const nameId = plainText(nameIds[0]!, 'NameID');
  if (!nameId.trim()) throw rejected(R.Malformed, 'the assertion’s NameID is empty');
  if (expected.nameIdReadByNodeSaml !== nameId) {
    throw rejected(
      R.MarkupInValue,
      'the NameID read by the SAML library is not the whole text of the NameID element',
    );
  }

  const confirmationUntil = checkSubjectConfirmation(subject!, conn, expected, skewMs);
  const conditionsUntil = checkConditions(root, conn, expected.now, skewMs);

  const authn = firstChild(root, SAML_NS.assertion, 'AuthnStatement');
  return {
    assertion: {
      issuer: issuerValue,
      assertionId,
      nameId,
      nameIdFormat: nameIds[0]!.getAttribute('Format') || null,
      sessionIndex: authn?.getAttribute('SessionIndex') || null,
      attributes: readAttributes(root),
    },
    acceptableUntil: Math.max(confirmationUntil, conditionsUntil ?? 0) + skewMs,
  };
}

/**
 * Among the bearer SubjectConfirmations, one must be for our ACS, within its time window and
 * for the same request; returns its NotOnOrAfter. The refusal names the first one's problem.
 */
function checkSubjectConfirmation(
  subject: Element,
  conn: SamlConnectionConfig,
  expected: AssertionExpectations,
  skewMs: number,
): number {
  const bearers = children(subject, SAML_NS.assertion, 'SubjectConfirmation').filter(
    (el) => el.getAttribute('Method') === BEARER,
  );
  if (bearers.length === 0) {
    throw rejected(R.Malformed, 'the assertion has no bearer SubjectConfirmation');
  }
  let firstProblem: Error | undefined;
  for (const confirmation of bearers) {
    try {
      const data = firstChild(confirmation, SAML_NS.assertion, 'SubjectConfirmationData');
      if (!data) throw rejected(R.Malformed, 'the SubjectConfirmation has no data');
      const recipient = data.getAttribute('Recipient');
      if (recipient !== conn.sp.acsUrl) {
        throw rejected(
          R.RecipientMismatch,
          `the assertion's recipient is ${JSON.stringify(recipient)}, not this connection's ACS URL (${conn.sp.acsUrl})`,
        );
      }
      const notOnOrAfter = timestamp(data, 'NotOnOrAfter');
      if (notOnOrAfter === null) {
        throw rejected(R.Malformed, 'the SubjectConfirmationData has no NotOnOrAfter');
      }
      checkWindow(timestamp(data, 'NotBefore'), notOnOrAfter, expected.now, skewMs);
      const answers = data.getAttribute('InResponseTo') || null;
      if (answers !== null && answers !== expected.inResponseTo) {
        throw rejected(
          R.InResponseToUnknown,
          'the assertion answers another request than the response that carries it',
        );
      }
      return notOnOrAfter;
    } catch (error) {
      firstProblem ??= error as Error;
    }
  }
  throw firstProblem!;
}

/** The Conditions' window and audience (every AudienceRestriction must name us); their NotOnOrAfter. */
function checkConditions(
  root: Element,
  conn: SamlConnectionConfig,
  now: number,
  skewMs: number,
): number | null {
  const conditions = children(root, SAML_NS.assertion, 'Conditions');
  if (conditions.length !== 1) {
    throw rejected(R.Malformed, 'the assertion must carry exactly one Conditions element');
  }
  const notOnOrAfter = timestamp(conditions[0]!, 'NotOnOrAfter');
  checkWindow(timestamp(conditions[0]!, 'NotBefore'), notOnOrAfter, now, skewMs);
  const restrictions = children(conditions[0]!, SAML_NS.assertion, 'AudienceRestriction');
  const audiences = restrictions.map((r) =>
    children(r, SAML_NS.assertion, 'Audience').map((a) => plainText(a, 'Audience').trim()),
  );
  if (audiences.length === 0 || audiences.some((list) => !list.includes(conn.sp.entityId))) {
    throw rejected(
      R.AudienceMismatch,
      `the assertion is for ${JSON.stringify(audiences.flat())}, not for this service provider (${conn.sp.entityId})`,
    );
  }
  return notOnOrAfter;
}

function checkWindow(
  notBefore: number | null,
  notOnOrAfter: number | null,
  now: number,
  skewMs: number,
): void {
  if (notBefore !== null && now + skewMs < notBefore) {
    throw rejected(
      R.NotYetValid,
      `the assertion is not valid before ${new Date(notBefore).toISOString()} (beyond the allowed clock skew)`,
    );
  }
  if (notOnOrAfter !== null && now - skewMs >= notOnOrAfter) {
    throw rejected(
      R.Expired,
      `the assertion expired at ${new Date(notOnOrAfter).toISOString()} (beyond the allowed clock skew)`,
    );
  }
}

/** Every attribute by Name with the text of each of its values (values that are elements are skipped). */
function readAttributes(root: Element): Record<string, string[]> {
  const attributes: Record<string, string[]> = {};
  for (const statement of children(root, SAML_NS.assertion, 'AttributeStatement')) {
    for (const attribute of children(statement, SAML_NS.assertion, 'Attribute')) {
      const name = attribute.getAttribute('Name');
      if (!name) throw rejected(R.Malformed, 'an assertion attribute has no Name');
      const values = (attributes[name] ??= []);
      for (const value of children(attribute, SAML_NS.assertion, 'AttributeValue')) {
        if (childElements(value).length > 0) continue;
        values.push(plainText(value, `the attribute ${name}`));
      }
    }
  }
  return attributes;
}

/** NameIDs and attribute values anywhere in the (received) assertion must be plain text. */
function refuseMarkupInValues(assertion: Element): void {
  for (const el of elementsNamed(assertion, 'NameID')) plainText(el, 'NameID');
  for (const el of elementsNamed(assertion, 'AttributeValue')) {
    plainText(el, `the attribute ${(el.parentNode as Element | null)?.getAttribute('Name')}`);
  }
}

/**
 * The element's text, refused when it holds a comment or processing instruction: a value read
 * must be the whole text of its element (the comment-truncation attack).
 */
export function plainText(el: Element, what: string): string {
  for (let node = el.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === Node.COMMENT_NODE || node.nodeType === Node.PROCESSING_INSTRUCTION_NODE) {
      throw rejected(
        R.MarkupInValue,
        `${what} contains a comment or processing instruction; its value would be read in pieces`,
      );
    }
  }
  return el.textContent ?? '';
}

function timestamp(el: Element, name: string): number | null {
  const value = el.getAttribute(name);
  if (value === null || value === '') return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw rejected(R.Malformed, `${name} is not a date: ${JSON.stringify(value)}`);
  return ms;
}

function childElements(el: Element): Element[] {
  const out: Element[] = [];
  for (let node = el.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === Node.ELEMENT_NODE) out.push(node as Element);
  }
  return out;
}

function children(el: Element, ns: string, localName: string): Element[] {
  return childElements(el).filter((c) => c.localName === localName && c.namespaceURI === ns);
}

function firstChild(el: Element | undefined, ns: string, localName: string): Element | undefined {
  return el ? children(el, ns, localName)[0] : undefined;
}

/** Every descendant element with this local name, whatever its namespace (as node-saml's XPath). */
function elementsNamed(el: Element, localName: string): Element[] {
  return Array.from(el.getElementsByTagNameNS('*', localName));
}
