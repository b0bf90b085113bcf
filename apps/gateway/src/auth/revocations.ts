/** After its `until`, a revoked id is kept this much longer (clock leeway), then forgotten. */
const KEEP_AFTER_UNTIL_MS = 60_000;

/**
 * Revoked sessions and API keys this gateway instance has heard of (identity's events,
 * and its own logouts). A session stays revoked until every access token of it has
 * expired (`until`); then it is forgotten, as its tokens are refused for being expired.
 */
export class Revocations {
  private readonly sessions = new Map<string, number>();
  private readonly apiKeys = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  revokeSession(sessionId: string, untilMs: number): void {
    this.sessions.set(sessionId, Math.max(untilMs, this.sessions.get(sessionId) ?? 0));
  }

  isSessionRevoked(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  revokeApiKey(keyId: string, untilMs: number): void {
    this.apiKeys.set(keyId, Math.max(untilMs, this.apiKeys.get(keyId) ?? 0));
  }

  isApiKeyRevoked(keyId: string): boolean {
    return this.apiKeys.has(keyId);
  }

  /** Forgets what no longer matters; run now and then. */
  sweep(): void {
    const before = this.now() - KEEP_AFTER_UNTIL_MS;
    for (const map of [this.sessions, this.apiKeys]) {
      for (const [id, until] of map) if (until < before) map.delete(id);
    }
  }

  get size(): { sessions: number; apiKeys: number } {
    return { sessions: this.sessions.size, apiKeys: this.apiKeys.size };
  }
}
