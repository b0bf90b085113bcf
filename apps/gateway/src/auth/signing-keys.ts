import { Logger } from '@nestjs/common';
import type { Jwks } from '@tenantry/contracts';
import { importJWK, type CryptoKey } from 'jose';

export interface SigningKeysOptions {
  /** Fetches the JWKS (identity's SigningKeyRpc.jwks). */
  fetchJwks: () => Promise<Jwks>;
  /** An unknown kid makes it fetch again at most this often (default 10 s). */
  unknownKidRefreshMs?: number;
  /** Called when a refresh dropped keys: tokens they verified must be verified again. */
  onKeysRemoved?: () => void;
  now?: () => number;
}

/** Thrown while no JWKS has been loaded yet: the gateway answers 503, not 401. */
export class SigningKeysNotLoaded extends Error {
  constructor() {
    super('the signing keys have not been loaded yet');
  }
}

/**
 * The public keys access tokens are verified with, by kid, fetched from identity: at
 * start-up (retried until identity answers), on a signing-key rotation event, and when a
 * token names a kid it does not know (at most once per `unknownKidRefreshMs`, so forged
 * kids cannot make it ask identity on every request).
 */
export class SigningKeys {
  private readonly logger = new Logger('SigningKeys');
  private keys = new Map<string, CryptoKey>();
  private isLoaded = false;
  private lastUnknownKidRefresh = Number.NEGATIVE_INFINITY;
  private refreshing?: Promise<void>;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: SigningKeysOptions) {
    this.now = options.now ?? Date.now;
  }

  get loaded(): boolean {
    return this.isLoaded;
  }

  get kids(): string[] {
    return [...this.keys.keys()];
  }

  /** Fetches the JWKS now (one fetch at a time: callers in the meantime share it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** The key of a kid; undefined when it is unknown even after a (rate-limited) refresh. */
  async keyFor(kid: string): Promise<CryptoKey | undefined> {
    const known = this.keys.get(kid);
    if (known) return known;
    if (!this.isLoaded) throw new SigningKeysNotLoaded();
    const now = this.now();
    if (now - this.lastUnknownKidRefresh < (this.options.unknownKidRefreshMs ?? 10_000)) {
      return this.refreshing
        ? this.refreshing.then(
            () => this.keys.get(kid),
            () => undefined,
          )
        : undefined;
    }
    this.lastUnknownKidRefresh = now;
    await this.refresh().catch((error: Error) =>
      this.logger.warn(`JWKS refresh for an unknown kid failed: ${error.message}`),
    );
    return this.keys.get(kid);
  }

  /**
   * Keeps trying until a JWKS is loaded (identity may start after the gateway, so the
   * first attempts failing is normal: a warning only after 10 s, then every 30 s).
   */
  async loadUntilReady(retryMs = 250): Promise<void> {
    const started = Date.now();
    let warned = 0;
    for (let attempt = 0; !this.isLoaded && !this.stopped; attempt++) {
      try {
        await this.refresh();
      } catch (error) {
        const now = Date.now();
        if (now - started >= 10_000 && now - warned >= 30_000) {
          warned = now;
          this.logger.warn(
            `cannot load the signing keys yet (retrying): ${(error as Error).message}`,
          );
        }
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(retryMs * 2 ** attempt, 2_000)),
        );
      }
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async load(): Promise<void> {
    const jwks = await this.options.fetchJwks();
    const keys = new Map<string, CryptoKey>();
    for (const jwk of jwks.keys) {
      if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || jwk.alg !== 'EdDSA') continue;
      try {
        keys.set(jwk.kid, await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, 'EdDSA'));
      } catch (error) {
        this.logger.warn(`ignoring JWK ${jwk.kid}: ${(error as Error).message}`);
      }
    }
    const removed = [...this.keys.keys()].some((kid) => !keys.has(kid));
    this.keys = keys;
    if (!this.isLoaded)
      this.logger.log(`signing keys loaded: ${[...keys.keys()].join(', ') || 'none'}`);
    this.isLoaded = true;
    if (removed) this.options.onKeysRemoved?.();
  }
}
