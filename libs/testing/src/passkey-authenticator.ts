import { createHash, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';

/** What a browser page gets from `navigator.credentials.create()`, as `toJSON()`. */
export interface RegistrationJson {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
  authenticatorAttachment: 'platform';
  clientExtensionResults: Record<string, never>;
}

/** What a browser page gets from `navigator.credentials.get()`, as `toJSON()`. */
export interface AssertionJson {
  id: string;
  rawId: string;
  type: 'public-key';
  response: {
    clientDataJSON: string;
    authenticatorData: string;
    signature: string;
    userHandle?: string;
  };
  authenticatorAttachment: 'platform';
  clientExtensionResults: Record<string, never>;
}

/**
 * How a ceremony goes, where it differs from an honest one on the expected page: the origin
 * and relying party the browser reports (an attacker's page), and whether the authenticator
 * verified its user (PIN, biometrics; default yes).
 */
export interface Ceremony {
  origin?: string;
  rpId?: string;
  userVerified?: boolean;
}

/**
 * A software passkey for tests: an ES256 (P-256) key pair and a signature counter, answering
 * WebAuthn options exactly as a browser and a platform authenticator would (client data,
 * authenticator data, 'none' attestation in CBOR, a DER ECDSA signature), so the server's
 * verification runs on real bytes. Written from the WebAuthn Level 3 specification, with its
 * own CBOR encoding, independent of the server library it tests.
 */
export class SoftPasskey {
  readonly credentialId = randomBytes(16);
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private userHandle?: string;
  /** The signature counter; each assertion moves it on by one. */
  counter = 0;

  /** `origin`: the page's origin the browser reports (e.g. the frontend's). */
  constructor(readonly origin: string) {}

  get id(): string {
    return this.credentialId.toString('base64url');
  }

  /** Answers PublicKeyCredentialCreationOptionsJSON (the challenge, rp.id, user.id). */
  register(
    options: { challenge: string; rp: { id?: string }; user: { id: string } },
    place: Ceremony = {},
  ): RegistrationJson {
    const rpId = place.rpId ?? options.rp.id;
    if (!rpId) throw new Error('SoftPasskey: the options name no rp.id');
    this.userHandle = options.user.id;
    const clientData = this.clientData('webauthn.create', options.challenge, place);
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    const coseKey = cbor(
      new Map<number, CborValue>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    const authData = Buffer.concat([
      sha256(Buffer.from(rpId)),
      Buffer.from([0x45]), // user present, user verified, attested credential data
      uint32(this.counter),
      Buffer.alloc(16), // AAGUID: none
      Buffer.from([this.credentialId.length >> 8, this.credentialId.length & 0xff]),
      this.credentialId,
      coseKey,
    ]);
    const attestationObject = cbor(
      new Map<string, CborValue>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, CborValue>()],
        ['authData', authData],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientData.toString('base64url'),
        attestationObject: attestationObject.toString('base64url'),
        transports: ['internal'],
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  /** Answers PublicKeyCredentialRequestOptionsJSON (the challenge, rpId), signing with the key. */
  authenticate(options: { challenge: string; rpId?: string }, place: Ceremony = {}): AssertionJson {
    const rpId = place.rpId ?? options.rpId;
    if (!rpId) throw new Error('SoftPasskey: the options name no rpId');
    this.counter++;
    const clientData = this.clientData('webauthn.get', options.challenge, place);
    const authData = Buffer.concat([
      sha256(Buffer.from(rpId)),
      Buffer.from([place.userVerified === false ? 0x01 : 0x05]), // user present (and verified)
      uint32(this.counter),
    ]);
    const signature = createSign('SHA256')
      .update(Buffer.concat([authData, sha256(clientData)]))
      .sign(this.keys.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientData.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  private clientData(type: string, challenge: string, place: Ceremony): Buffer {
    return Buffer.from(
      JSON.stringify({ type, challenge, origin: place.origin ?? this.origin, crossOrigin: false }),
    );
  }
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

function uint32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
}

type CborValue = number | string | Buffer | Map<number, CborValue> | Map<string, CborValue>;

/** CBOR (RFC 8949) of what WebAuthn needs: integers, text, byte strings and maps. */
function cbor(value: CborValue): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const out = Buffer.alloc(5);
    out[0] = (major << 5) | 26;
    out.writeUInt32BE(n, 1);
    return out;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  return Buffer.concat([
    head(5, value.size),
    ...[...(value as Map<number | string, CborValue>)].flatMap(([k, v]) => [cbor(k), cbor(v)]),
  ]);
}
