import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { IdentityEvents } from '@tenantry/contracts';
import { EventFollower, NatsService, type FollowedEvent } from '@tenantry/messaging';
import { ApiKeyVerifier } from './api-key.verifier.js';
import { Revocations } from './revocations.js';
import { SigningKeys } from './signing-keys.js';

/** Longer than any access token lives (15 minutes at most), so every revocation that still matters is read. */
export const REVOCATIONS_LOOKBACK_MS = 20 * 60_000;
/** API keys are cached 30 s and verified in at most a request timeout: a revoked id is kept well past both. */
const API_KEY_REVOCATION_KEEP_MS = 20 * 60_000;
const SWEEP_MS = 60_000;
const JWKS_REFRESH_MS = 5 * 60_000;

/**
 * Every gateway instance follows identity's events (`evt.identity.>` on EVENTS, an
 * ordered consumer of its own, starting 20 minutes back): a revoked session is refused
 * from the moment its event arrives until its tokens have expired; a revoked API key is
 * evicted from the cache; a signing-key rotation fetches the JWKS again. It also loads
 * the JWKS at start-up (and every 5 minutes as a safety net).
 */
@Injectable()
export class IdentityEventsFollower implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('IdentityEvents');
  private readonly follower: EventFollower;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    @Inject(NatsService) nats: NatsService,
    @Inject(Revocations) private readonly revocations: Revocations,
    @Inject(ApiKeyVerifier) private readonly apiKeys: ApiKeyVerifier,
    @Inject(SigningKeys) private readonly keys: SigningKeys,
  ) {
    this.follower = new EventFollower(nats, {
      stream: 'EVENTS',
      filterSubject: 'evt.identity.>',
      startBackMs: REVOCATIONS_LOOKBACK_MS,
      name: 'identity events',
      onEvent: (event) => this.handle(event),
    });
  }

  /** Every revocation of the last 20 minutes has been read (and new ones arrive as they happen). */
  get caughtUp(): boolean {
    return this.follower.caughtUp;
  }

  onApplicationBootstrap(): void {
    this.follower.start();
    void this.keys.loadUntilReady();
    this.timers = [
      setInterval(() => this.revocations.sweep(), SWEEP_MS),
      setInterval(() => {
        if (this.keys.loaded)
          this.keys
            .refresh()
            .catch((error: Error) => this.logger.warn(`JWKS refresh failed: ${error.message}`));
      }, JWKS_REFRESH_MS),
    ];
    for (const timer of this.timers) timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.keys.stop();
    await this.follower.stop();
  }

  handle(event: FollowedEvent): void {
    switch (event.subject) {
      case IdentityEvents.sessionRevoked.subject: {
        const data = IdentityEvents.sessionRevoked.schema.parse(event.data);
        this.revocations.revokeSession(data.sessionId, Date.parse(data.until));
        break;
      }
      case IdentityEvents.apiKeyRevoked.subject: {
        const data = IdentityEvents.apiKeyRevoked.schema.parse(event.data);
        this.revocations.revokeApiKey(data.keyId, Date.now() + API_KEY_REVOCATION_KEEP_MS);
        this.apiKeys.evict(data.keyId);
        break;
      }
      case IdentityEvents.signingKeyRotated.subject:
        this.keys
          .refresh()
          .catch((error: Error) =>
            this.logger.warn(`JWKS refresh after a rotation failed: ${error.message}`),
          );
        break;
      default:
        break;
    }
  }
}
