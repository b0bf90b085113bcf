import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { TENANT_ACCESS_BUCKET, TenantAccessSchema, type TenantAccess } from '@tenantry/contracts';
import { NatsService } from '@tenantry/messaging';

const DESCRIPTION =
  "Each tenant's access state (status, IP allow-list, API call limits), by tenant id; written by the tenants service";

function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** The entry's state, or null when it is unreadable (then it is replaced). */
function stateOf(entry: KvEntry): TenantAccess | null {
  try {
    const parsed = TenantAccessSchema.safeParse(entry.json());
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Keeps the TENANT_ACCESS bucket (named in the service's namespace like POLICY_SNAPSHOTS;
 * created when missing, one revision per key): one key per tenant, its access state as JSON
 * (TenantAccessSchema), which the gateway follows to refuse the principals of a barred
 * tenant and to apply its IP allow-list and API call limits. A put is a compare-and-set on
 * the key's revision and never replaces a state with an older one (`updatedAt`), so writers
 * racing (a change and the maintenance loop, two replicas) leave the newest state.
 */
@Injectable()
export class TenantAccessPublisher implements OnApplicationBootstrap {
  private readonly logger = new Logger('TenantAccessPublisher');
  private kv?: Promise<KV>;
  private readonly encoder = new TextEncoder();

  constructor(@Inject(NatsService) private readonly nats: NatsService) {}

  /**
   * The gateway watches the bucket from its own start: make it now rather than at the first
   * tenant's change (when NATS does not answer, the first publish makes it).
   */
  onApplicationBootstrap(): void {
    this.bucket().catch(() => undefined);
  }

  /** The bucket's name in this service's namespace (`<NS>_TENANT_ACCESS`). */
  get bucketName(): string {
    return this.nats.options.namespace.bucket(TENANT_ACCESS_BUCKET);
  }

  /** The bucket, created with history 1 when missing. */
  bucket(): Promise<KV> {
    this.kv ??= new Kvm(this.nats.js)
      .create(this.bucketName, {
        history: 1,
        description: DESCRIPTION,
        replicas: this.nats.options.streamReplicas,
      })
      .catch((error: unknown) => {
        this.kv = undefined;
        throw error;
      });
    return this.kv;
  }

  /**
   * Makes the bucket hold `access` unless it holds a newer state of the tenant. Returns true
   * when it wrote. Throws when NATS does not answer (the maintenance loop publishes again).
   */
  async publish(access: TenantAccess): Promise<boolean> {
    const value = TenantAccessSchema.parse(access);
    const data = this.encoder.encode(JSON.stringify(value));
    try {
      const kv = await this.bucket();
      for (let attempt = 1; ; attempt++) {
        const entry = await kv.get(value.tenantId);
        try {
          if (entry?.operation === 'PUT') {
            const current = stateOf(entry);
            if (current && !newer(value, current)) return false;
            await kv.update(value.tenantId, data, entry.revision);
            return true;
          }
          // No entry, or a deleted one: create() also takes the place of a delete marker.
          await kv.create(value.tenantId, data);
          return true;
        } catch (error) {
          // Someone else wrote the key meanwhile: look again.
          if (!isWrongLastSequence(error) || attempt >= 10) throw error;
        }
      }
    } catch (error) {
      this.kv = undefined;
      this.logger.debug?.(`bucket ${this.bucketName}: ${(error as Error).message}`);
      throw error;
    }
  }

  /** The tenant's state in the bucket; null when it has none. */
  async get(tenantId: string): Promise<TenantAccess | null> {
    const entry = await (await this.bucket()).get(tenantId);
    return entry?.operation === 'PUT' ? stateOf(entry) : null;
  }
}

/** True when `next` should replace `current`: a later state, or the same moment with other content. */
function newer(next: TenantAccess, current: TenantAccess): boolean {
  const a = Date.parse(next.updatedAt);
  const b = Date.parse(current.updatedAt);
  if (a !== b) return a > b;
  return JSON.stringify(next) !== JSON.stringify(current);
}
