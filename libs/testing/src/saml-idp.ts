// @peculiar/x509 (through tsyringe) needs the Reflect metadata API loaded first.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { inflateRawSync } from 'node:zlib';
import { freePort } from '@tenantry/launcher';
import * as x509 from '@peculiar/x509';
import {
  DOMParser,
  MIME_TYPE,
  XMLSerializer,
  type Document,
  type Element,
  type Node as XmlNode,
} from '@xmldom/xmldom';
import * as samlify from 'samlify';
import { SignedXml } from 'xml-crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

// samlify refuses to parse without a schema validator. The real ones (xsd-schema-validator,
// libxml) need Java or network access, which tests do not have. Schema validation only runs
// on the IdP side of these tests (AuthnRequests parsed by the test IdP): the service provider
// under test does not use samlify at all, so nothing it accepts is vouched for by this.
samlify.setSchemaValidator({ validate: async () => 'skipped' });

const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
};
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

/** An RSA key (PKCS#8 PEM) and its self-signed certificate (PEM). */
export interface SamlKeyPair {
  privateKey: string;
  certificate: string;
}

/** A fresh 2048-bit RSA key and a self-signed certificate for it, valid for a year. */
export async function generateSamlKeyPair(commonName = 'tenantry-test'): Promise<SamlKeyPair> {
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: algorithm,
    notBefore: new Date(Date.now() - 24 * 3600_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600_000),
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    privateKey: pem('PRIVATE KEY', pkcs8),
    certificate: certificate.toString('pem'),
  };
}

/** Who the test IdP signs in. */
export interface SamlTestUser {
  nameId: string;
  email: string;
  /** More attributes (the email is always sent as `email`). */
  attributes?: Record<string, string | string[]>;
}

/** A service provider the IdP knows (from its metadata, in real life). */
export interface SamlSpRegistration {
  entityId: string;
  acsUrl: string;
  /** Verifies the SP's signed AuthnRequests. */
  certificate: string;
}

/**
 * How to shape (or misshape) a response. By default: a Success response, to the SP's ACS,
 * with one assertion signed by the IdP's current key, valid for 5 minutes from now.
 */
export interface SamlResponseOptions {
  /** Encrypt the assertion to this certificate (PEM), as for an SP that wants it encrypted. */
  encryptTo?: string;
  /** Seconds added to every timestamp (negative: in the past). */
  shiftSeconds?: number;
  /** NotOnOrAfter − IssueInstant (default 300). */
  validForSeconds?: number;
  /** The SubjectConfirmationData's own NotOnOrAfter − IssueInstant (default: validForSeconds). */
  confirmationValidForSeconds?: number;
  audience?: string;
  recipient?: string;
  /** null: no Destination attribute. */
  destination?: string | null;
  /** Issuer of both the Response and the Assertion (default: the IdP's entity ID). */
  issuer?: string;
  /** Issuer of the Response only; null: none. */
  responseIssuer?: string | null;
  /** Overrides the request's ID (null: none, as if unsolicited). */
  inResponseTo?: string | null;
  statusCode?: string;
  assertionId?: string;
  /** Default true. */
  signAssertion?: boolean;
  /** Default false. */
  signResponse?: boolean;
  /** Sign with this key instead of the IdP's; its certificate is carried in the KeyInfo. */
  signWith?: SamlKeyPair;
  relayState?: string;
  nameIdFormat?: string;
}

/** A response as the browser would POST it to the ACS. */
export interface SamlPostedResponse {
  samlResponse: string;
  relayState?: string;
  /** The XML (before base64), to look at or tamper with. */
  xml: string;
}

/** The AuthnRequest an SP sent, as the IdP read it. */
export interface SamlReceivedRequest {
  id: string;
  issuer: string;
  acsUrl: string | undefined;
  relayState: string | undefined;
  xml: string;
}

/**
 * A real SAML 2.0 IdP for tests, on samlify, with its own RSA key and self-signed
 * certificate. It reads SPs' signed AuthnRequests (HTTP-Redirect) and answers with signed
 * (optionally encrypted) responses for the HTTP-POST binding. It also serves
 * `GET /metadata` and `GET /sso` (an auto-submitting form to the ACS, for `signInAs`'s user)
 * on 127.0.0.1, so a flow can be followed over HTTP too.
 */
export class TestSamlIdp {
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly metadataUrl: string;
  private keys: SamlKeyPair;
  private readonly retired: string[] = [];
  private readonly sps = new Map<string, SamlSpRegistration>();
  private currentUser: SamlTestUser | null = null;

  private constructor(
    private readonly server: Server,
    baseUrl: string,
    keys: SamlKeyPair,
  ) {
    this.entityId = `${baseUrl}/metadata`;
    this.metadataUrl = `${baseUrl}/metadata`;
    this.ssoUrl = `${baseUrl}/sso`;
    this.keys = keys;
  }

  /** Starts an IdP on a free port of 127.0.0.1 with a fresh key. */
  static async start(): Promise<TestSamlIdp> {
    const port = await freePort();
    const keys = await generateSamlKeyPair('tenantry-test-idp');
    const server = createServer();
    const idp = new TestSamlIdp(server, `http://127.0.0.1:${port}`, keys);
    server.on('request', (req, res) => {
      void idp.serve(req.url ?? '/').then(
        ({ status, type, body }) => res.writeHead(status, { 'content-type': type }).end(body),
        (error: Error) => res.writeHead(400, { 'content-type': 'text/plain' }).end(error.message),
      );
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return idp;
  }

  /** The current signing certificate (PEM). */
  get certificatePem(): string {
    return this.keys.certificate;
  }

  /** The current key and certificate (to build attack messages by hand). */
  get signingKey(): SamlKeyPair {
    return this.keys;
  }

  /** Every certificate it has signed with, the current one last. */
  get certificates(): string[] {
    return [...this.retired, this.keys.certificate];
  }

  /** Starts signing with a new key; returns its certificate. */
  async rotateKey(): Promise<string> {
    this.retired.push(this.keys.certificate);
    this.keys = await generateSamlKeyPair('tenantry-test-idp-rotated');
    return this.keys.certificate;
  }

  /** The IdP's metadata (entity ID, SSO endpoint, signing certificate). */
  metadataXml(): string {
    return this.entity({}).getMetadata();
  }

  /** Accepts AuthnRequests from this SP (and checks their signature with its certificate). */
  trustSp(sp: SamlSpRegistration): void {
    this.sps.set(sp.entityId, sp);
  }

  /** The user `GET /sso` signs in (null: the endpoint answers 401). */
  signInAs(user: SamlTestUser | null): void {
    this.currentUser = user;
  }

  /**
   * Reads an AuthnRequest from the SP's redirect URL (HTTP-Redirect binding; its signature
   * must verify with the trusted SP's certificate) and answers it for `user`.
   */
  async respondTo(
    redirectUrl: string,
    user: SamlTestUser,
    options: SamlResponseOptions = {},
  ): Promise<SamlPostedResponse & { request: SamlReceivedRequest }> {
    const request = await this.readRequest(redirectUrl);
    const sp = this.sps.get(request.issuer)!;
    const response = await this.respond(sp, request.id, user, {
      relayState: request.relayState,
      ...options,
    });
    return { ...response, request };
  }

  /** An unsolicited response (IdP-initiated sign-in) for an SP. */
  async idpInitiated(
    spAcsUrl: string,
    spEntityId: string,
    user: SamlTestUser,
    options: SamlResponseOptions = {},
  ): Promise<SamlPostedResponse> {
    return this.respond(
      { entityId: spEntityId, acsUrl: spAcsUrl, certificate: '' },
      null,
      user,
      options,
    );
  }

  /** Reads and verifies an AuthnRequest sent with the HTTP-Redirect binding. */
  async readRequest(redirectUrl: string): Promise<SamlReceivedRequest> {
    const url = new URL(redirectUrl);
    if (`${url.origin}${url.pathname}` !== this.ssoUrl) {
      throw new Error(`the request goes to ${url.origin}${url.pathname}, not to ${this.ssoUrl}`);
    }
    const samlRequest = url.searchParams.get('SAMLRequest');
    if (!samlRequest) throw new Error('no SAMLRequest in the redirect URL');
    const xml = inflateRawSync(Buffer.from(samlRequest, 'base64')).toString('utf8');
    const root = parseXml(xml).documentElement!;
    const issuer = elementsNamed(root, 'Issuer')[0]?.textContent?.trim() ?? '';
    const sp = this.sps.get(issuer);
    if (!sp)
      throw new Error(`the AuthnRequest comes from an SP this IdP does not trust: ${issuer}`);
    // The signed octets are the query parameters as they were encoded in the URL (bindings §3.4.4.1).
    const raw = url.search.slice(1).split('&');
    const octetString = ['SAMLRequest', 'RelayState', 'SigAlg']
      .map((name) => raw.find((part) => part.startsWith(`${name}=`)))
      .filter((part): part is string => part !== undefined)
      .join('&');
    const parsed = await this.entity({}).parseLoginRequest(this.spEntity(sp, {}), 'redirect', {
      query: Object.fromEntries(url.searchParams),
      octetString,
    });
    const info = parsed.extract.request as Record<string, string>;
    if (info['assertionConsumerServiceUrl'] && info['assertionConsumerServiceUrl'] !== sp.acsUrl) {
      throw new Error(
        `the AuthnRequest asks for an ACS the SP did not register: ${info['assertionConsumerServiceUrl']}`,
      );
    }
    return {
      id: info['id']!,
      issuer,
      acsUrl: info['assertionConsumerServiceUrl'],
      relayState: url.searchParams.get('RelayState') ?? undefined,
      xml,
    };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async respond(
    sp: SamlSpRegistration,
    requestId: string | null,
    user: SamlTestUser,
    options: SamlResponseOptions,
  ): Promise<SamlPostedResponse> {
    const signAssertion = options.signAssertion ?? true;
    const signResponse = options.signResponse ?? false;
    const now = Date.now() + (options.shiftSeconds ?? 0) * 1000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const issuer = options.issuer ?? this.entityId;
    const responseIssuer = options.responseIssuer === undefined ? issuer : options.responseIssuer;
    const inResponseTo = options.inResponseTo === undefined ? requestId : options.inResponseTo;
    const responseId = samlId();
    const values = {
      ID: responseId,
      AssertionID: options.assertionId ?? samlId(),
      IssueInstant: iso(now),
      NotBefore: iso(now),
      NotOnOrAfter: iso(now + (options.validForSeconds ?? 300) * 1000),
      ConfirmationNotOnOrAfter: iso(
        now + (options.confirmationValidForSeconds ?? options.validForSeconds ?? 300) * 1000,
      ),
      Destination: options.destination === undefined ? sp.acsUrl : options.destination,
      InResponseTo: inResponseTo,
      Issuer: issuer,
      NameIDFormat: options.nameIdFormat ?? EMAIL_FORMAT,
      NameID: user.nameId,
      Recipient: options.recipient ?? sp.acsUrl,
      Audience: options.audience ?? sp.entityId,
      StatusCode: options.statusCode ?? SUCCESS,
      SessionIndex: samlId(),
    };
    let template = RESPONSE_TEMPLATE;
    if (responseIssuer === null)
      template = template.replace('<saml:Issuer>{ResponseIssuer}</saml:Issuer>', '');
    const xmlBeforeSigning = samlify.SamlLib.replaceTagsByValue(template, {
      ...values,
      ResponseIssuer: responseIssuer ?? '',
    }).replace(ATTRIBUTES_MARK, attributeStatement({ email: user.email, ...user.attributes }));

    const idp = this.entity({
      keys: options.signWith,
      encrypt: options.encryptTo !== undefined,
    });
    const spEntity = this.spEntity(sp, {
      encryptCert: options.encryptTo,
      wantAssertionsSigned: signAssertion,
      // samlify signs the message whenever the assertion is not; the signature is removed below.
      wantMessageSigned: signResponse,
    });
    const built = await idp.createLoginResponse(
      spEntity,
      { extract: {} },
      'post',
      { email: user.email },
      {
        customTagReplacement: () => ({ id: responseId, context: xmlBeforeSigning }),
        encryptThenSign: true,
        relayState: options.relayState,
      },
    );
    let xml = Buffer.from(built.context, 'base64').toString('utf8');
    if (!signAssertion && !signResponse) xml = removeSignatures(xml);
    return {
      samlResponse: toSamlResponse(xml),
      ...(options.relayState !== undefined ? { relayState: options.relayState } : {}),
      xml,
    };
  }

  private entity(options: { keys?: SamlKeyPair; encrypt?: boolean }) {
    const keys = options.keys ?? this.keys;
    return samlify.IdentityProvider({
      entityID: this.entityId,
      privateKey: keys.privateKey,
      signingCert: keys.certificate,
      wantAuthnRequestsSigned: true,
      isAssertionEncrypted: options.encrypt ?? false,
      requestSignatureAlgorithm: RSA_SHA256,
      nameIDFormat: [EMAIL_FORMAT],
      singleSignOnService: [
        { Binding: samlify.Constants.namespace.binding.redirect, Location: this.ssoUrl },
      ],
      singleLogoutService: [
        {
          Binding: samlify.Constants.namespace.binding.redirect,
          Location: `${this.ssoUrl}/logout`,
        },
      ],
    });
  }

  private spEntity(
    sp: SamlSpRegistration,
    options: { encryptCert?: string; wantAssertionsSigned?: boolean; wantMessageSigned?: boolean },
  ) {
    return samlify.ServiceProvider({
      entityID: sp.entityId,
      authnRequestsSigned: true,
      wantAssertionsSigned: options.wantAssertionsSigned ?? true,
      wantMessageSigned: options.wantMessageSigned ?? false,
      ...(sp.certificate ? { signingCert: sp.certificate } : {}),
      ...(options.encryptCert ? { encryptCert: options.encryptCert } : {}),
      assertionConsumerService: [
        { Binding: samlify.Constants.namespace.binding.post, Location: sp.acsUrl },
      ],
    });
  }

  private async serve(path: string): Promise<{ status: number; type: string; body: string }> {
    const url = new URL(path, this.ssoUrl);
    if (url.pathname === '/metadata') {
      return { status: 200, type: 'application/samlmetadata+xml', body: this.metadataXml() };
    }
    if (url.pathname === '/sso') {
      if (!this.currentUser) return { status: 401, type: 'text/plain', body: 'no user signed in' };
      const answer = await this.respondTo(url.href, this.currentUser);
      const field = (name: string, value: string) =>
        `<input type="hidden" name="${name}" value="${escapeXml(value)}"/>`;
      const body =
        `<!DOCTYPE html><html><body onload="document.forms[0].submit()">` +
        `<form method="post" action="${escapeXml(this.sps.get(answer.request.issuer)!.acsUrl)}">` +
        field('SAMLResponse', answer.samlResponse) +
        (answer.relayState ? field('RelayState', answer.relayState) : '') +
        `</form></body></html>`;
      return { status: 200, type: 'text/html', body };
    }
    return { status: 404, type: 'text/plain', body: 'not found' };
  }
}

const ATTRIBUTES_MARK = '__TENANTRY_ATTRIBUTES__';

/** The response template: samlify fills the `{Tag}`s (escaped; a null value drops the attribute). */
const RESPONSE_TEMPLATE =
  `<samlp:Response xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" Destination="{Destination}" InResponseTo="{InResponseTo}">` +
  `<saml:Issuer>{ResponseIssuer}</saml:Issuer>` +
  `<samlp:Status><samlp:StatusCode Value="{StatusCode}"/></samlp:Status>` +
  `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="{AssertionID}" Version="2.0" IssueInstant="{IssueInstant}">` +
  `<saml:Issuer>{Issuer}</saml:Issuer>` +
  `<saml:Subject><saml:NameID Format="{NameIDFormat}">{NameID}</saml:NameID>` +
  `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
  `<saml:SubjectConfirmationData NotOnOrAfter="{ConfirmationNotOnOrAfter}" Recipient="{Recipient}" InResponseTo="{InResponseTo}"/>` +
  `</saml:SubjectConfirmation></saml:Subject>` +
  `<saml:Conditions NotBefore="{NotBefore}" NotOnOrAfter="{NotOnOrAfter}"><saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
  `<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{SessionIndex}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
  ATTRIBUTES_MARK +
  `</saml:Assertion></samlp:Response>`;

function attributeStatement(attributes: Record<string, string | string[]>): string {
  const items = Object.entries(attributes).map(
    ([name, value]) =>
      `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">` +
      (Array.isArray(value) ? value : [value])
        .map(
          (v) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`,
        )
        .join('') +
      `</saml:Attribute>`,
  );
  return items.length ? `<saml:AttributeStatement>${items.join('')}</saml:AttributeStatement>` : '';
}

// Raw helpers for attack tests: decode, parse, tamper, re-sign, encode.

/** The XML of a SAMLResponse form value. */
export function samlResponseXml(samlResponse: string): string {
  return Buffer.from(samlResponse, 'base64').toString('utf8');
}

/** The SAMLResponse form value of an XML document. */
export function toSamlResponse(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}

/** Parses XML (leniently: attack messages are parsed as they are). */
export function parseXml(xml: string): Document {
  return new DOMParser().parseFromString(xml, MIME_TYPE.XML_TEXT);
}

export function serializeXml(node: XmlNode): string {
  return new XMLSerializer().serializeToString(node);
}

/** Every element with this local name under `node` (any namespace), in document order. */
export function elementsNamed(node: Document | Element, localName: string): Element[] {
  return Array.from(node.getElementsByTagNameNS('*', localName));
}

/** The XML with every ds:Signature element removed. */
export function removeSignatures(xml: string): string {
  const doc = parseXml(xml);
  for (const signature of elementsNamed(doc, 'Signature'))
    signature.parentNode!.removeChild(signature);
  return serializeXml(doc);
}

/**
 * Signs the first element with this local name (an enveloped RSA-SHA256 signature placed
 * after its Issuer), as an attacker with their own key would; `keyInfo` carries the
 * certificate in the signature (default true).
 */
export function signXmlElement(
  xml: string,
  localName: string,
  keys: SamlKeyPair,
  { keyInfo = true }: { keyInfo?: boolean } = {},
): string {
  const target = `//*[local-name(.)='${localName}']`;
  const signer = new SignedXml({
    privateKey: keys.privateKey,
    ...(keyInfo ? { publicCert: keys.certificate } : {}),
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  signer.addReference({
    xpath: target,
    transforms: [ENVELOPED, EXC_C14N],
    digestAlgorithm: SHA256,
  });
  signer.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `${target}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return signer.getSignedXml();
}

function samlId(): string {
  return `_${randomBytes(16).toString('hex')}`;
}

function pem(label: string, der: Buffer): string {
  const lines = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
