import { ACCESS_TOKEN, actorOf, Roles, UuidSchema, type Principal } from '@tenantry/contracts';
import { errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { z } from 'zod';
import { AuthErrors } from './auth.errors.js';
import { SigningKeys, SigningKeysNotLoaded } from './signing-keys.js';

/** A principal established once, with what every later request of it needs. */
export interface Authenticated {
  principal: Principal;
  /** `actorOf(principal)`, made once. */
  actor: string;
  /** Milliseconds since the epoch after which it must be established again. */
  expiresAt: number;
}

export interface AccessTokenVerifierOptions {
  issuer: string;
  /** Leeway on exp and nbf (default 5 s). */
  clockToleranceSeconds?: number;
  now?: () => number;
}

/** The claims an access token must have (ADR 0006); anything else is refused. */
const ClaimsSchema = z.object({
  sub: UuidSchema,
  tid: UuidSchema.nullable(),
  sid: UuidSchema,
  jti: z.string().min(1).max(200),
  roles: z.array(z.string().max(63)).max(50),
  amr: z.array(z.string().max(32)).max(10).optional(),
  auth_time: z.number().int().nonnegative().optional(),
  exp: z.number(),
  iat: z.number(),
});

class KeyNotFound extends Error {}

/**
 * Verifies an access token locally: EdDSA only (alg `none`, HMAC with the public key as
 * secret and every other algorithm are refused before a key is looked up), a kid the JWKS
 * knows, the signature, `typ: at+jwt`, `iss`, `aud`, `exp` and `nbf` with 5 s leeway, and
 * the claims' shapes. Any failure is the one "not valid" 401, except a validly signed but
 * expired token (the client should refresh) and keys not loaded yet (503).
 */
export class AccessTokenVerifier {
  private readonly now: () => number;

  constructor(
    private readonly keys: SigningKeys,
    private readonly options: AccessTokenVerifierOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async verify(token: string): Promise<Authenticated> {
    let claims: z.output<typeof ClaimsSchema>;
    try {
      const { payload } = await jwtVerify(token, (header) => this.keyFor(header), {
        algorithms: [ACCESS_TOKEN.algorithm],
        issuer: this.options.issuer,
        audience: ACCESS_TOKEN.audience,
        typ: ACCESS_TOKEN.type,
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        currentDate: new Date(this.now()),
      });
      claims = ClaimsSchema.parse(payload);
    } catch (error) {
      if (error instanceof SigningKeysNotLoaded) throw AuthErrors.keysUnavailable();
      if (error instanceof errors.JWTExpired) throw AuthErrors.tokenExpired();
      throw AuthErrors.tokenInvalid();
    }
    const operator = claims.tid === null && claims.roles.includes(Roles.platformOperator);
    // A token of no tenant is an operator's, or not valid.
    if (claims.tid === null && !operator) throw AuthErrors.tokenInvalid();
    const principal: Principal = {
      kind: operator ? 'operator' : 'user',
      id: claims.sub,
      tenantId: claims.tid,
      roles: claims.roles,
      scopes: [],
      sessionId: claims.sid,
      amr: claims.amr ?? [],
      ...(claims.auth_time !== undefined
        ? { authTime: new Date(claims.auth_time * 1000).toISOString() }
        : {}),
    };
    return { principal, actor: actorOf(principal), expiresAt: claims.exp * 1000 };
  }

  private async keyFor(header: JWTHeaderParameters) {
    if (!header.kid) throw new KeyNotFound('no kid');
    const key = await this.keys.keyFor(header.kid);
    if (!key) throw new KeyNotFound(`unknown kid`);
    return key;
  }
}
