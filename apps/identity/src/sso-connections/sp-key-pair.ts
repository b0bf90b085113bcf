import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  X509CertificateGenerator,
} from '@peculiar/x509';

/** The SP's key pair of one SAML connection, PEM. */
export interface SpKeyPair {
  /** PKCS#8. */
  privateKey: string;
  /** Self-signed X.509. */
  certificate: string;
}

/** How long an SP certificate is valid: about ten years (IdPs pin it; nobody checks its dates). */
export const SP_CERTIFICATE_YEARS = 10;

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

/** A key pair as @peculiar/x509 takes it (WebCrypto's CryptoKeyPair). */
type KeyPair = Parameters<typeof X509CertificateGenerator.createSelfSigned>[0]['keys'];

/**
 * A fresh RSA 2048 key pair and a self-signed SHA-256 certificate (CN = the host of the
 * SP entity id, valid from now for SP_CERTIFICATE_YEARS years): it signs AuthnRequests
 * and IdPs encrypt assertions to it.
 */
export async function generateSpKeyPair(spEntityId: string, now = new Date()): Promise<SpKeyPair> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as KeyPair;
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + SP_CERTIFICATE_YEARS);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive serial number
  const certificate = await X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [new URL(spEntityId).hostname] }],
    notBefore: now,
    notAfter,
    signingAlgorithm: RSA,
    keys,
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    privateKey: PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    certificate: certificate.toString('pem'),
  };
}
