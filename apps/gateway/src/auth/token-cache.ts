import { LRUCache } from 'lru-cache';
import type { Authenticated } from './access-token.verifier.js';

/**
 * Verified access tokens by the SHA-256 of the token, until they expire: a repeated token
 * costs a hash and a lookup, not a signature check. Bounded (least recently used go first).
 */
export class VerifiedTokenCache {
  private readonly cache: LRUCache<string, Authenticated>;
  private readonly now: () => number;

  constructor(options: { max?: number; now?: () => number } = {}) {
    this.cache = new LRUCache({ max: options.max ?? 100_000 });
    this.now = options.now ?? Date.now;
  }

  get(hash: string): Authenticated | undefined {
    const entry = this.cache.get(hash);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.cache.delete(hash);
      return undefined;
    }
    return entry;
  }

  set(hash: string, entry: Authenticated): void {
    const ttl = Math.ceil(entry.expiresAt - this.now());
    if (ttl > 0) this.cache.set(hash, entry, { ttl });
  }

  clear(): void {
    this.cache.clear();
  }

  get size(): number {
    return this.cache.size;
  }
}
