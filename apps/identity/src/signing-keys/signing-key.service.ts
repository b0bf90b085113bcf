import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ACCESS_TOKEN, IdentityEvents, PLATFORM_TENANT_ID, type Jwks } from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { addToOutbox, Outbox, outboxEvent, TenantTransactions } from '@tenantry/persistence';
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { uuidv7 } from '@tenantry/runtime';
import { auditEvent } from '../core/audit.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { SigningKeyEntity } from './signing-key.entity.js';
import { SigningKeyRepository } from './signing-key.repository.js';

/** The longest access-token lifetime a tenant may choose (AuthSettings: 5 to 15 minutes). */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/** A retired key stays in the JWKS this long: the longest token lifetime, and 5 minutes to spare. */
export const PUBLISHED_AFTER_RETIREMENT_MS = (MAX_ACCESS_TOKEN_TTL_SECONDS + 5 * 60) * 1000;
/** How long a replica signs with the key it loaded before it looks for a newer one. */
const CURRENT_KEY_TTL_MS = 60_000;
const ROTATION_CHECK_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** What an access token says; `tid` is null for platform operators. */
export interface AccessTokenClaims {
  sub: string;
  tid: string | null;
  sid: string;
  roles: string[];
  amr: string[];
  authTime: Date;
  ttlSeconds: number;
}

interface LoadedKey {
  kid: string;
  key: KeyObject;
  /** The token's protected header, encoded once per key. */
  header: string;
  loadedAt: number;
}

const base64url = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');

/**
 * The access-token signing keys: Ed25519 (EdDSA), made on first start, rotated every
 * SIGNING_KEY_ROTATION_DAYS (checked at start-up and hourly) and on demand; a retired key
 * stays in the JWKS until every token it signed has expired.
 */
@Injectable()
export class SigningKeyService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('SigningKeys');
  private current?: LoadedKey;
  private loading?: Promise<LoadedKey>;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(SigningKeyRepository) private readonly keys: SigningKeyRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
    @InjectIdentitySettings() private readonly settings: IdentitySettings,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.rotateIfDue();
    this.timer = setInterval(() => {
      this.rotateIfDue().catch((error: Error) =>
        this.logger.warn(`signing key rotation check failed: ${error.message}`),
      );
    }, ROTATION_CHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /**
   * A signed access token (`typ: at+jwt`, EdDSA, with `kid`) carrying the claims, iss, aud,
   * jti, iat and exp. Ed25519 signs in microseconds: on the event loop, with node:crypto,
   * rather than as a job queued behind the argon2 verifications on libuv's thread pool.
   */
  async signAccessToken(claims: AccessTokenClaims): Promise<string> {
    const { key, header } = await this.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const payload = base64url({
      tid: claims.tid,
      sid: claims.sid,
      roles: claims.roles,
      amr: claims.amr,
      auth_time: Math.floor(claims.authTime.getTime() / 1000),
      iss: this.settings.issuer,
      aud: ACCESS_TOKEN.audience,
      sub: claims.sub,
      jti: uuidv7(),
      iat: now,
      exp: now + claims.ttlSeconds,
    });
    const signature = sign(null, Buffer.from(`${header}.${payload}`), key);
    return `${header}.${payload}.${signature.toString('base64url')}`;
  }

  /** The public keys that verify every unexpired access token, newest first. */
  async jwks(): Promise<Jwks> {
    const keys = await this.keys.published();
    return {
      keys: keys.map((k) => ({
        kty: 'OKP' as const,
        crv: 'Ed25519' as const,
        x: k.publicJwk.x!,
        kid: k.kid,
        alg: 'EdDSA' as const,
        use: 'sig' as const,
      })),
    };
  }

  /** Signs with a new key from now on (audited, and announced to the gateways); returns its kid. */
  async rotate(): Promise<{ kid: string }> {
    return { kid: await this.replace(() => true) };
  }

  /**
   * Makes the first key when there is none, and a new one when the newest is older than
   * SIGNING_KEY_ROTATION_DAYS. Replicas doing this together agree (advisory lock).
   */
  async rotateIfDue(now: Date = new Date()): Promise<void> {
    const maxAgeMs = this.settings.signingKeyRotationDays * DAY_MS;
    await this.replace(
      (newest) => !newest || now.getTime() - newest.createdAt.getTime() >= maxAgeMs,
    );
  }

  /** Under the lock: if `due(newest)`, a new key signs from now on and the others retire. */
  private async replace(due: (newest: SigningKeyEntity | null) => boolean): Promise<string> {
    const result = await this.tx.runGlobal(async (manager) => {
      await this.keys.lock(manager);
      const newest = await this.keys.newestIn(manager);
      if (!due(newest)) return { kid: newest!.kid, created: false };
      const key = await newSigningKey();
      await this.keys.insert(manager, key);
      await this.keys.retireAllBut(manager, key.kid, PUBLISHED_AFTER_RETIREMENT_MS);
      await this.keys.deleteUnpublished(manager);
      await addToOutbox(manager, [
        outboxEvent(
          IdentityEvents.signingKeyRotated.schema,
          IdentityEvents.signingKeyRotated.subject,
          { kid: key.kid },
          `signing-key-rotated:${key.kid}`,
          messageContext.current(),
        ),
        auditEvent({
          tenantId: PLATFORM_TENANT_ID,
          category: 'auth',
          action: 'signing-key.rotated',
          target: { type: 'signing_key', id: key.kid },
          data: { replaced: newest?.kid ?? null },
        }),
      ]);
      return { kid: key.kid, created: true };
    });
    if (result.created) {
      this.current = undefined;
      this.outbox.kick();
      this.logger.log(`signing with the new key ${result.kid}`);
    }
    return result.kid;
  }

  /** The key that signs now, as loaded at most a minute ago (a rotation elsewhere is seen within that). */
  private async signingKey(): Promise<LoadedKey> {
    if (this.current && Date.now() - this.current.loadedAt < CURRENT_KEY_TTL_MS)
      return this.current;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    this.current = await this.loading;
    return this.current;
  }

  private async load(): Promise<LoadedKey> {
    const newest = await this.keys.newest();
    if (!newest) throw new Error('there is no signing key yet');
    const key = createPrivateKey(newest.privatePkcs8);
    if (key.asymmetricKeyType !== 'ed25519')
      throw new Error(`signing key ${newest.kid} is not Ed25519`);
    return {
      kid: newest.kid,
      key,
      header: base64url({ alg: ACCESS_TOKEN.algorithm, typ: ACCESS_TOKEN.type, kid: newest.kid }),
      loadedAt: Date.now(),
    };
  }
}

/** A fresh Ed25519 key pair; its kid is the public JWK's thumbprint. */
async function newSigningKey(): Promise<SigningKeyEntity> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', {
    crv: 'Ed25519',
    extractable: true,
  });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return Object.assign(new SigningKeyEntity(), {
    kid,
    publicJwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, kid, alg: 'EdDSA', use: 'sig' },
    privatePkcs8: await exportPKCS8(privateKey),
    createdAt: new Date(),
    retiredAt: null,
    publishedUntil: null,
  });
}
