import { Inject, Injectable, Logger } from '@nestjs/common';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { PolicySnapshots } from '@tenantry/contracts';
import { NatsService } from '@tenantry/messaging';
import type { PolicyDocument } from '@tenantry/policy-engine';
import { TenantPolicyRepository } from './tenant-policy.repository.js';

/** NATS's default max_payload, when the server has not said. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Room left in a message for the KV headers. */
const HEADER_ROOM = 8 * 1024;

/** The document's version as a bucket entry holds it; 0 when it is unreadable. */
function versionOf(entry: KvEntry): number {
  try {
    const version = entry.json<{ version?: unknown }>().version;
    return typeof version === 'number' && Number.isInteger(version) ? version : 0;
  } catch {
    return 0;
  }
}

function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * Puts tenants' policy documents in the snapshot bucket (`PolicySnapshots`, named in the
 * service's namespace; created when missing, one revision per key) and records which version
 * it has. A put is a compare-and-set on the key's revision and never replaces a newer version
 * with an older one, so publishers racing (two changes, two replicas, the reconciler) leave
 * the newest version in the bucket.
 */
@Injectable()
export class PolicyPublisher {
  private readonly logger = new Logger('PolicyPublisher');
  private kv?: Promise<KV>;
  private retry?: () => void;
  private readonly encoder = new TextEncoder();

  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(TenantPolicyRepository) private readonly policies: TenantPolicyRepository,
  ) {}

  /** The bucket's name in this service's namespace (`<NS>_POLICY_SNAPSHOTS`). */
  get bucketName(): string {
    return this.nats.options.namespace.bucket(PolicySnapshots.bucket);
  }

  /** The largest document a snapshot may hold (the NATS server's max_payload, less room for headers). */
  maxDocumentBytes(): number {
    return (this.nats.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - HEADER_ROOM;
  }

  /** Who retries publications that failed (the reconciler). */
  onRetryWanted(listener: () => void): void {
    this.retry = listener;
  }

  /** A publication failed (NATS away): ask for another try soon, with backoff. */
  retryLater(): void {
    this.retry?.();
  }

  /** The bucket, created with history 1 when missing. */
  bucket(): Promise<KV> {
    this.kv ??= new Kvm(this.nats.js)
      .create(this.bucketName, {
        history: 1,
        description: PolicySnapshots.description,
        replicas: this.nats.options.streamReplicas,
      })
      .catch((error: unknown) => {
        this.kv = undefined;
        throw error;
      });
    return this.kv;
  }

  /** The tenants that have a snapshot in the bucket (deleted keys excluded). */
  async keys(): Promise<Set<string>> {
    return this.guard(async (kv) => {
      const keys = new Set<string>();
      for await (const key of await kv.keys()) keys.add(key);
      return keys;
    });
  }

  /** The version of the tenant's snapshot in the bucket; 0 when it has none. */
  async versionInBucket(tenantId: string): Promise<number> {
    return this.guard(async (kv) => {
      const entry = await kv.get(tenantId);
      return entry?.operation === 'PUT' ? versionOf(entry) : 0;
    });
  }

  /**
   * Makes the bucket hold `document` (or a newer version of it) and records that. Throws when
   * NATS does not answer: the row stays behind and the reconciler tries again.
   */
  async publish(document: PolicyDocument): Promise<void> {
    const tenantId = document.tenantId;
    const data = this.encoder.encode(JSON.stringify(document));
    const { version, revision } = await this.guard(async (kv) => {
      for (let attempt = 1; ; attempt++) {
        const entry = await kv.get(tenantId);
        try {
          if (entry?.operation === 'PUT') {
            const current = versionOf(entry);
            if (current >= document.version) return { version: current, revision: entry.revision };
            return {
              version: document.version,
              revision: await kv.update(tenantId, data, entry.revision),
            };
          }
          // No entry, or a deleted one: create() also takes the place of a delete marker.
          return { version: document.version, revision: await kv.create(tenantId, data) };
        } catch (error) {
          // Someone else wrote the key meanwhile: look again.
          if (!isWrongLastSequence(error) || attempt >= 10) throw error;
        }
      }
    });
    await this.policies.markPublished(tenantId, version, revision);
  }

  /**
   * Deletes the tenant's snapshot from the bucket (holders forget the tenant's policy); true
   * when there was one. Throws when NATS does not answer.
   */
  async unpublish(tenantId: string): Promise<boolean> {
    return this.guard(async (kv) => {
      const entry = await kv.get(tenantId);
      if (entry?.operation !== 'PUT') return false;
      await kv.delete(tenantId);
      return true;
    });
  }

  /** Runs `work` on the bucket; after a failure the bucket is looked up (or made) again next time. */
  private async guard<T>(work: (kv: KV) => Promise<T>): Promise<T> {
    try {
      return await work(await this.bucket());
    } catch (error) {
      this.kv = undefined;
      this.logger.debug?.(`bucket ${this.bucketName}: ${(error as Error).message}`);
      throw error;
    }
  }
}
