import { X509Certificate } from 'node:crypto';
import { AppError } from '@tenantry/contracts';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { SsoConnectionErrors } from './sso-connection.errors.js';

/** The IdP of a SAML connection as stored: its entity id, where AuthnRequests go, its signing certificates (PEM). */
export interface SamlIdp {
  entityId: string;
  ssoUrl: string;
  certificates: string[];
}

/** The IdP as a client gives it: exactly one of metadataXml, metadataUrl, or the three fields. */
export interface SamlIdpInput {
  metadataXml?: string;
  metadataUrl?: string;
  entityId?: string;
  ssoUrl?: string;
  certificates?: string[];
}

/** How long fetching an IdP's metadata may take, and how big it may be. */
export interface MetadataFetchLimits {
  timeoutMs: number;
  maxBytes: number;
}

export const METADATA_FETCH_LIMITS: MetadataFetchLimits = {
  timeoutMs: 10_000,
  maxBytes: 1024 * 1024,
};

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const HTTP_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const PEM_ANY = /-----BEGIN ([A-Z0-9 ]+)-----/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ELEMENT_NODE = 1;

/** A certificate as PEM, or what is wrong with the value (a phrase after "the value"). */
function toPem(value: string): { pem: string } | { problem: string } {
  const blocks = [...value.matchAll(PEM_CERTIFICATE)];
  if (blocks.length > 1)
    return { problem: `holds ${blocks.length} certificates; give one certificate per entry` };
  let body = blocks[0]?.[1];
  if (body === undefined) {
    const other = PEM_ANY.exec(value);
    if (other)
      return {
        problem: `is a PEM ${other[1]}, not a CERTIFICATE; give the IdP's X.509 signing certificate`,
      };
    body = value;
  }
  body = body.replace(/\s+/g, '');
  if (!BASE64.test(body))
    return {
      problem: 'must be an X.509 certificate, PEM (-----BEGIN CERTIFICATE-----) or base64 DER',
    };
  const der = Buffer.from(body, 'base64');
  try {
    new X509Certificate(der);
  } catch (error) {
    return {
      problem: `is not an X.509 certificate (${(error as Error).message}); give the IdP's signing certificate, PEM or base64 DER`,
    };
  }
  const lines = der.toString('base64').match(/.{1,64}/g)!;
  return { pem: `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----` };
}

/**
 * A certificate given as PEM or as the bare base64 DER that metadata carries, as PEM
 * (64-character lines). Refuses, naming `field`, anything that is not exactly one X.509
 * certificate.
 */
export function normalizeCertificate(value: string, field: string): string {
  const result = toPem(value);
  if ('problem' in result) throw SsoConnectionErrors.certificateInvalid(field, result.problem);
  return result.pem;
}

/** The elements among `parent`'s children with this namespace and local name. */
function children(parent: Element, namespace: string, localName: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== ELEMENT_NODE) continue;
    const element = node as Element;
    if (element.namespaceURI === namespace && element.localName === localName) found.push(element);
  }
  return found;
}

function descendants(parent: Element, namespace: string, localName: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(namespace, localName));
}

/**
 * The IdP described by SAML 2.0 metadata (an EntityDescriptor, or an EntitiesDescriptor
 * holding exactly one IdP): its entityID, the SingleSignOnService location of the
 * HTTP-Redirect binding (HTTP-POST when it has none), and every signing certificate
 * (KeyDescriptor `use="signing"` or without `use`). A DOCTYPE is refused outright (entity
 * expansion and external entities); every problem names `field` and says what is missing,
 * after `source` (e.g. `the metadata at <url> `).
 */
export function parseIdpMetadata(xml: string, field: string, source = ''): SamlIdp {
  const fail = (message: string) =>
    SsoConnectionErrors.metadataInvalid(field, `${source}${message}`);
  if (/<!DOCTYPE/i.test(xml))
    throw fail('must not contain a DOCTYPE (refused: entity declarations can attack the parser)');
  let root: Element | null;
  try {
    const document = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(xml, 'text/xml');
    root = document.documentElement;
  } catch (error) {
    const message = ((error as Error).message.split('\n')[0] ?? '').slice(0, 200);
    throw fail(`is not well-formed XML (${message})`);
  }
  if (!root) throw fail('is not well-formed XML (no root element)');
  const entities =
    root.namespaceURI === MD && root.localName === 'EntityDescriptor'
      ? [root]
      : descendants(root, MD, 'EntityDescriptor');
  if (!entities.length) throw fail(`has no EntityDescriptor (SAML 2.0 metadata, namespace ${MD})`);
  const idps = entities.flatMap((entity) =>
    children(entity, MD, 'IDPSSODescriptor').map((descriptor) => ({ entity, descriptor })),
  );
  if (!idps.length)
    throw fail('has no IDPSSODescriptor: it is not the metadata of an identity provider');
  if (idps.length > 1)
    throw fail(`describes ${idps.length} identity providers; give the metadata of exactly one`);
  const { entity, descriptor } = idps[0]!;

  const entityId = entity.getAttribute('entityID')?.trim();
  if (!entityId) throw fail('has an EntityDescriptor without an entityID');
  const protocols = (descriptor.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/);
  if (!protocols.includes(SAML2_PROTOCOL))
    throw fail(`has an IDPSSODescriptor that does not support SAML 2.0 (${SAML2_PROTOCOL})`);

  const services = children(descriptor, MD, 'SingleSignOnService');
  const service =
    services.find((s) => s.getAttribute('Binding') === HTTP_REDIRECT) ??
    services.find((s) => s.getAttribute('Binding') === HTTP_POST);
  if (!service)
    throw fail(
      'has no SingleSignOnService with the HTTP-Redirect binding (nor HTTP-POST) in its IDPSSODescriptor',
    );
  const ssoUrl = service.getAttribute('Location')?.trim() ?? '';
  if (!URL.canParse(ssoUrl) || !/^https?:$/.test(new URL(ssoUrl).protocol))
    throw fail(
      `has a SingleSignOnService whose Location is not an http(s) URL (${JSON.stringify(ssoUrl.slice(0, 200))})`,
    );

  const certificates: string[] = [];
  const keys = children(descriptor, MD, 'KeyDescriptor');
  keys.forEach((key, index) => {
    const use = key.getAttribute('use');
    if (use && use !== 'signing') return;
    for (const element of descendants(key, DS, 'X509Certificate')) {
      const result = toPem(element.textContent ?? '');
      if ('problem' in result)
        throw SsoConnectionErrors.certificateInvalid(
          field,
          `${source}has a KeyDescriptor (number ${index + 1}) whose ds:X509Certificate ${result.problem}`,
        );
      if (!certificates.includes(result.pem)) certificates.push(result.pem);
    }
  });
  if (!certificates.length)
    throw fail(
      'has no signing certificate: an IDPSSODescriptor KeyDescriptor (use="signing" or without use) with a ds:X509Certificate',
    );
  return { entityId, ssoUrl, certificates };
}

/**
 * Fetches an IdP's metadata once (GET, http(s) only, redirects followed): refuses, naming
 * `field`, an error status, an answer later than `timeoutMs` or larger than `maxBytes`,
 * and a server that cannot be reached.
 */
export async function fetchIdpMetadata(
  url: string,
  field: string,
  limits: MetadataFetchLimits = METADATA_FETCH_LIMITS,
): Promise<string> {
  const fail = (message: string) =>
    SsoConnectionErrors.metadataUnreachable(field, `${url} ${message}`);
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    throw SsoConnectionErrors.metadataUnreachable(field, 'must be an http:// or https:// URL');
  const seconds = limits.timeoutMs / 1000;
  const tooBig = () => fail(`is larger than ${limits.maxBytes / 1024} KiB; is it SAML metadata?`);
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(url, {
      signal,
      redirect: 'follow',
      headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' },
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw fail(
        `answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}; give the URL of the IdP's SAML metadata`,
      );
    }
    const length = Number(response.headers.get('content-length') ?? NaN);
    if (length > limits.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw tooBig();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limits.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw tooBig();
        }
        chunks.push(value);
      }
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (signal.aborted) throw fail(`did not answer within ${seconds} seconds`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw fail(
      `could not be fetched (${cause?.code ?? cause?.message ?? (error as Error).message})`,
    );
  }
}

/**
 * The IdP from exactly one form of `input` (metadata XML, metadata URL fetched now, or
 * entityId + ssoUrl + certificates); errors name the field under `field` (`saml.idp`).
 */
export async function resolveIdp(
  input: SamlIdpInput,
  field: string,
  limits: MetadataFetchLimits = METADATA_FETCH_LIMITS,
): Promise<SamlIdp> {
  const manual = (['entityId', 'ssoUrl', 'certificates'] as const).filter(
    (key) => input[key] !== undefined,
  );
  const forms = [
    ...(input.metadataXml !== undefined ? ['metadataXml'] : []),
    ...(input.metadataUrl !== undefined ? ['metadataUrl'] : []),
    ...(manual.length ? [manual.join(' + ')] : []),
  ];
  if (forms.length !== 1) throw SsoConnectionErrors.idpForm(field, forms);
  if (input.metadataXml !== undefined)
    return parseIdpMetadata(input.metadataXml, `${field}.metadataXml`);
  if (input.metadataUrl !== undefined) {
    const xml = await fetchIdpMetadata(input.metadataUrl, `${field}.metadataUrl`, limits);
    return parseIdpMetadata(xml, `${field}.metadataUrl`, `the metadata at ${input.metadataUrl} `);
  }
  const missing = (['entityId', 'ssoUrl', 'certificates'] as const).filter(
    (key) => input[key] === undefined,
  );
  if (missing.length) throw SsoConnectionErrors.idpFieldsMissing(field, missing);
  const certificates: string[] = [];
  input.certificates!.forEach((value, index) => {
    const certificate = normalizeCertificate(value, `${field}.certificates.${index}`);
    if (!certificates.includes(certificate)) certificates.push(certificate);
  });
  return { entityId: input.entityId!, ssoUrl: input.ssoUrl!, certificates };
}
