// The baselines of the sso benchmark: the least a SAML service provider or an OIDC relying party
// must do with what it receives, with the libraries the real code sits on, and nothing else.
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { SignedXml } from 'xml-crypto';

// The DOM implementation xml-crypto itself uses (its own @xmldom 0.8), and the xml-encryption
// node-saml (under @node-saml/passport-saml) decrypts with: resolved from those packages, so the
// baseline runs the same code.
const { DOMParser, XMLSerializer } = createRequire(import.meta.resolve('xml-crypto'))(
  '@xmldom/xmldom',
);
const nodeSaml = createRequire(import.meta.resolve('@node-saml/passport-saml')).resolve(
  '@node-saml/node-saml',
);
const xmlenc = createRequire(nodeSaml)('xml-encryption');
const decrypt = promisify(xmlenc.decrypt).bind(xmlenc);

const SAML_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

const childNamed = (element, ns, localName) =>
  Array.from(element?.childNodes ?? []).find(
    (n) => n.nodeType === 1 && n.namespaceURI === ns && n.localName === localName,
  );

/**
 * The assertion's enveloped signature checked with the IdP certificate, as xml-crypto does it:
 * base64-decode, parse, find the `ds:Signature` child of the (one) Assertion,
 * `SignedXml.loadSignature` + `checkSignature` (which canonicalizes the referenced assertion,
 * compares its digest and verifies the RSA-SHA256 signature). True when it verifies.
 */
export function checkAssertionSignature(samlResponse, idpCertificate) {
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const assertion = childNamed(doc.documentElement, SAML_ASSERTION, 'Assertion');
  return verifyEnveloped(xml, assertion, idpCertificate);
}

/**
 * An encrypted assertion: `xml-encryption` decrypts the `EncryptedData` with the SP's key (as
 * node-saml does: the element serialized, then decrypted), then the decrypted assertion's
 * signature is checked as above. True when it verifies.
 */
export async function decryptAndCheckAssertionSignature(
  samlResponse,
  spPrivateKey,
  idpCertificate,
) {
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const encrypted = childNamed(doc.documentElement, SAML_ASSERTION, 'EncryptedAssertion');
  const data = childNamed(encrypted, XMLENC, 'EncryptedData');
  if (!data) return false;
  const assertionXml = await decrypt(new XMLSerializer().serializeToString(data), {
    key: spPrivateKey,
  });
  const assertion = new DOMParser().parseFromString(assertionXml, 'text/xml').documentElement;
  return verifyEnveloped(assertionXml, assertion, idpCertificate);
}

function verifyEnveloped(xml, element, certificate) {
  const signature = childNamed(element, DSIG, 'Signature');
  if (!signature) return false;
  const signed = new SignedXml({ publicCert: certificate });
  signed.loadSignature(signature);
  return signed.checkSignature(xml);
}

/**
 * jose's `jwtVerify` of an id_token against the OP's JWKS (a local set: fetched once, as
 * openid-client caches it): signature (RS256), `iss`, `aud`, `exp`/`iat`. Resolves to true.
 */
export function idTokenVerifier(jwks, { issuer, audience }) {
  const keys = createLocalJWKSet(jwks);
  return async (idToken) => {
    await jwtVerify(idToken, keys, { issuer, audience, algorithms: ['RS256'] });
    return true;
  };
}
