import { Logger } from '@nestjs/common';
import { AppError, type Jwks } from '@tenantry/contracts';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { SigningKeys } from './signing-keys.js';

const ISSUER = 'https://tenantry.example.test';
const NOW = Date.parse('2026-11-30T12:00:00Z');
const SECONDS = NOW / 1000;
const TENANT = '0193a000-0000-7000-8000-00000000000a';
const USER = '0193c000-0000-7000-8000-000000000002';
const SESSION = '0193d000-0000-7000-8000-000000000003';

interface Key {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', {
    crv: 'Ed25519',
    extractable: true,
  });
  return { kid, privateKey, publicKey };
}

async function jwksOf(...keys: Key[]): Promise<Jwks> {
  return {
    keys: await Promise.all(
      keys.map(async ({ kid, publicKey }) => {
        const jwk = await exportJWK(publicKey);
        return { kty: 'OKP', crv: 'Ed25519', x: jwk.x!, kid, alg: 'EdDSA', use: 'sig' } as const;
      }),
    ),
  };
}

const claims = (over: JWTPayload = {}): JWTPayload => ({
  iss: ISSUER,
  aud: 'tenantry',
  sub: USER,
  tid: TENANT,
  sid: SESSION,
  roles: ['tenant-admin'],
  amr: ['pwd'],
  auth_time: SECONDS - 60,
  jti: 'jti-1',
  iat: SECONDS - 10,
  exp: SECONDS + 600,
  ...over,
});

function sign(
  key: Key,
  payload: JWTPayload = claims(),
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid, ...header })
    .sign(key.privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** What a 401 or 503 the verifier throws looks like, for comparing. */
async function refusal(promise: Promise<unknown>): Promise<{ status: number; reason?: string }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return {
      status: { UNAUTHENTICATED: 401, SERVICE_UNAVAILABLE: 503 }[error.code as string] ?? 0,
      reason: error.reason,
    };
  }
  throw new Error('expected the token to be refused');
}
const INVALID = { status: 401, reason: 'AUTH_TOKEN_INVALID' };

beforeAll(() => Logger.overrideLogger(false));

describe('AccessTokenVerifier', () => {
  let key: Key;
  let other: Key;
  let fetches: number;
  let published: Key[];
  let clock: number;
  let keys: SigningKeys;
  let verifier: AccessTokenVerifier;

  beforeAll(async () => {
    key = await newKey('k1');
    other = await newKey('k2');
  });

  beforeEach(async () => {
    fetches = 0;
    published = [key];
    clock = NOW;
    keys = new SigningKeys({
      fetchJwks: async () => {
        fetches++;
        return jwksOf(...published);
      },
      now: () => clock,
    });
    await keys.refresh();
    fetches = 0;
    verifier = new AccessTokenVerifier(keys, { issuer: ISSUER, now: () => clock });
  });

  it("accepts a valid user's token: the principal, its actor, and when it expires", async () => {
    const verified = await verifier.verify(await sign(key));
    expect(verified.principal).toEqual({
      kind: 'user',
      id: USER,
      tenantId: TENANT,
      roles: ['tenant-admin'],
      scopes: [],
      sessionId: SESSION,
      amr: ['pwd'],
      authTime: new Date((SECONDS - 60) * 1000).toISOString(),
    });
    expect(verified.actor).toBe(`user:${USER}`);
    expect(verified.expiresAt).toBe((SECONDS + 600) * 1000);
  });

  it('makes an operator of a token of no tenant with the operator role, and refuses one without it', async () => {
    const operator = await verifier.verify(
      await sign(key, claims({ tid: null, roles: ['platform-operator'] })),
    );
    expect(operator.principal).toMatchObject({ kind: 'operator', tenantId: null });
    expect(operator.actor).toBe(`operator:${USER}`);
    expect(await refusal(verifier.verify(await sign(key, claims({ tid: null }))))).toEqual(INVALID);
    // The operator role in a tenant's token makes a user of that tenant, not an operator.
    const user = await verifier.verify(await sign(key, claims({ roles: ['platform-operator'] })));
    expect(user.principal.kind).toBe('user');
  });

  it('refuses alg none', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${b64(claims())}.`;
    expect(await refusal(verifier.verify(unsigned))).toEqual(INVALID);
  });

  it('refuses HS256 signed with the public key as the secret (PEM and raw)', async () => {
    const pem = await exportSPKI(key.publicKey);
    const raw = Buffer.from((await exportJWK(key.publicKey)).x!, 'base64url');
    for (const secret of [new TextEncoder().encode(pem), new Uint8Array(raw)]) {
      const forged = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })
        .sign(secret);
      expect(await refusal(verifier.verify(forged))).toEqual(INVALID);
    }
    expect(fetches).toBe(0);
  });

  it('refuses a token signed by a key it does not know, under a known kid', async () => {
    const forged = await sign({ ...other, kid: 'k1' });
    expect(await refusal(verifier.verify(forged))).toEqual(INVALID);
  });

  it('refuses an unknown kid after one JWKS refresh, and refreshes for unknown kids at most once per 10 s', async () => {
    const unknown = await sign(other);
    expect(await refusal(verifier.verify(unknown))).toEqual(INVALID);
    expect(fetches).toBe(1);
    for (let i = 0; i < 5; i++) expect(await refusal(verifier.verify(unknown))).toEqual(INVALID);
    expect(fetches).toBe(1);
    clock += 10_000;
    expect(await refusal(verifier.verify(unknown))).toEqual(INVALID);
    expect(fetches).toBe(2);
  });

  it('finds a new key (a rotation) through that refresh', async () => {
    published = [key, other];
    const verified = await verifier.verify(await sign(other));
    expect(verified.principal.id).toBe(USER);
    expect(fetches).toBe(1);
  });

  it('refuses a token without a kid', async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .sign(key.privateKey);
    expect(await refusal(verifier.verify(token))).toEqual(INVALID);
  });

  it('refuses an expired token as expired (the client should refresh), with 5 s leeway', async () => {
    const token = await sign(key, claims({ exp: SECONDS - 6 }));
    expect(await refusal(verifier.verify(token))).toEqual({
      status: 401,
      reason: 'AUTH_TOKEN_EXPIRED',
    });
    const justExpired = await sign(key, claims({ exp: SECONDS - 3 }));
    await expect(verifier.verify(justExpired)).resolves.toBeDefined();
  });

  it('refuses a token that is not valid yet (nbf in the future), with 5 s leeway', async () => {
    expect(await refusal(verifier.verify(await sign(key, claims({ nbf: SECONDS + 60 }))))).toEqual(
      INVALID,
    );
    await expect(
      verifier.verify(await sign(key, claims({ nbf: SECONDS + 3 }))),
    ).resolves.toBeDefined();
  });

  it.each([
    ['another issuer', { iss: 'https://evil.example' }],
    ['the issuer with a trailing slash', { iss: `${ISSUER}/` }],
    ['no issuer', { iss: undefined }],
    ['another audience', { aud: 'someone-else' }],
    ['no audience', { aud: undefined }],
    ['no exp', { exp: undefined }],
    ['no sid', { sid: undefined }],
    ['a sub that is not a UUID', { sub: 'admin' }],
    ['no tid', { tid: undefined }],
    ['roles that are not a list', { roles: 'platform-operator' }],
  ] as [string, JWTPayload][])('refuses %s', async (_what, over) => {
    const payload = claims(over);
    for (const [name, value] of Object.entries(over)) if (value === undefined) delete payload[name];
    expect(await refusal(verifier.verify(await sign(key, payload)))).toEqual(INVALID);
  });

  it.each([
    ['no typ', { typ: undefined }],
    ['typ JWT', { typ: 'JWT' }],
    ['the typ of another token', { typ: 'refresh+jwt' }],
  ])('refuses %s', async (_what, header) => {
    expect(await refusal(verifier.verify(await sign(key, claims(), header)))).toEqual(INVALID);
  });

  it('refuses a truncated or altered signature, and an altered payload', async () => {
    const token = await sign(key);
    const [h, p, s] = token.split('.') as [string, string, string];
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    const promoted = b64({ ...claims(), roles: ['tenant-admin', 'owner'] });
    for (const bad of [
      `${h}.${p}.${s.slice(0, -4)}`,
      `${h}.${p}.`,
      `${h}.${p}`,
      `${h}.${p}.${flipped}`,
      `${h}.${promoted}.${s}`,
      `${token}x`,
      'not a token',
      '',
    ]) {
      expect(await refusal(verifier.verify(bad))).toEqual(INVALID);
    }
  });

  it('answers 503, not 401, while no JWKS has been loaded', async () => {
    const notLoaded = new AccessTokenVerifier(
      new SigningKeys({
        fetchJwks: () => Promise.reject(new Error('identity is down')),
      }),
      { issuer: ISSUER, now: () => clock },
    );
    expect(await refusal(notLoaded.verify(await sign(key)))).toEqual({
      status: 503,
      reason: 'AUTH_UNAVAILABLE',
    });
  });
});
