import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { publicKeyJwk, rawPublicKey, type AuditKey } from '@tenantry/audit-ledger';
import type { AuditKeyInfo } from '@tenantry/contracts';
import { TenantTransactions } from '@tenantry/persistence';
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { InjectLedgerSettings, type LedgerSettings } from './ledger.settings.js';
import { AuditSigningKeyRepository, type StoredSigningKey } from './signing-key.repository.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How often an instance checks whether the key is due for rotation. */
const ROTATION_CHECK_MS = 60 * 60 * 1000;
/** How long an instance signs with the key it loaded before it looks for a newer one. */
const CURRENT_KEY_TTL_MS = 60_000;
/**
 * After a rotation the old key stays valid this long (its notAfter): instances that loaded
 * it a moment before still sign correctly, and clocks may differ a little.
 */
export const ROTATION_OVERLAP_MS = 60 * 60 * 1000;

/** The key that signs checkpoints now. */
export interface CurrentSigningKey {
  keyId: string;
  privateKey: KeyObject;
  /** Checkpoints it signs must not say they were issued before this (ISO 8601). */
  notBefore: string;
}

/** The RFC 7638 thumbprint of an Ed25519 public key (raw, base64url): the key's id. */
export function keyIdOf(publicKey: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x: publicKey }))
    .digest('base64url');
}

/**
 * The checkpoint signing keys: Ed25519, made on first start, rotated every
 * AUDIT_KEY_ROTATION_DAYS (checked at start-up and hourly, one instance at a time); an old
 * key stops signing ROTATION_OVERLAP_MS after its successor starts and stays published
 * forever (with its notAfter), so every checkpoint it signed stays verifiable.
 */
@Injectable()
export class AuditSigningKeyService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuditSigningKeys');
  private loaded?: { key: CurrentSigningKey; at: number };
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(AuditSigningKeyRepository) private readonly keys: AuditSigningKeyRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @InjectLedgerSettings() private readonly settings: LedgerSettings,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.rotateIfDue();
    this.timer = setInterval(() => {
      this.rotateIfDue().catch((error: Error) =>
        this.logger.warn(`audit signing key rotation check failed: ${error.message}`),
      );
    }, ROTATION_CHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Every key's public half, newest first (GET /v1/audit/keys). */
  async published(): Promise<AuditKeyInfo[]> {
    return (await this.keys.all()).map((key) => ({
      keyId: key.keyId,
      publicKey: key.publicKey,
      notBefore: key.notBefore,
      notAfter: key.notAfter,
      jwk: publicKeyJwk(key),
    }));
  }

  /** Every key as `verifyCheckpoint` takes them. */
  async publicKeys(): Promise<AuditKey[]> {
    return (await this.keys.all()).map(({ keyId, publicKey, notBefore, notAfter }) => ({
      keyId,
      publicKey,
      notBefore,
      notAfter,
    }));
  }

  /** The key that signs now, as loaded at most a minute ago. */
  async current(): Promise<CurrentSigningKey> {
    if (this.loaded && Date.now() - this.loaded.at < CURRENT_KEY_TTL_MS) return this.loaded.key;
    const stored = await this.keys.current();
    if (!stored) throw new Error('there is no audit signing key yet');
    const privateKey = createPrivateKey(stored.privatePkcs8);
    if (privateKey.asymmetricKeyType !== 'ed25519')
      throw new Error(`audit signing key ${stored.keyId} is not Ed25519`);
    const key = { keyId: stored.keyId, privateKey, notBefore: stored.notBefore };
    this.loaded = { key, at: Date.now() };
    return key;
  }

  /** Signs with a new key from now on; the old one signs for ROTATION_OVERLAP_MS more. Its id. */
  rotate(now: Date = new Date()): Promise<string> {
    return this.replace(() => true, now);
  }

  /**
   * Makes the first key when there is none, and a new one when the current one is older
   * than AUDIT_KEY_ROTATION_DAYS. Instances doing this together agree (advisory lock).
   */
  async rotateIfDue(now: Date = new Date()): Promise<void> {
    const maxAgeMs = this.settings.keyRotationDays * DAY_MS;
    await this.replace(
      (current) => !current || now.getTime() - Date.parse(current.notBefore) >= maxAgeMs,
      now,
    );
  }

  private async replace(
    due: (current: StoredSigningKey | null) => boolean,
    now: Date,
  ): Promise<string> {
    const result = await this.tx.runGlobal(async (manager) => {
      await this.keys.lock(manager);
      const current = await this.keys.currentIn(manager);
      if (current && !due(current)) return { keyId: current.keyId, created: false };
      const key = newSigningKey(now);
      await this.keys.replaceCurrent(manager, key, new Date(now.getTime() + ROTATION_OVERLAP_MS));
      return { keyId: key.keyId, created: true };
    });
    if (result.created) {
      this.loaded = undefined;
      this.logger.log(`signing audit checkpoints with the new key ${result.keyId}`);
    }
    return result.keyId;
  }
}

/** A fresh Ed25519 key pair valid from `now`; its id is its public key's thumbprint. */
function newSigningKey(now: Date): StoredSigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = rawPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    privatePkcs8: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    notBefore: now.toISOString(),
    notAfter: null,
  };
}
