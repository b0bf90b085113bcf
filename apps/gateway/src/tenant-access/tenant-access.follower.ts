import { Logger } from '@nestjs/common';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import {
  BARRED_TENANT_STATUSES,
  Namespace,
  TENANT_ACCESS_BUCKET,
  TenantAccessSchema,
  type TenantAccess,
} from '@tenantry/contracts';
import {
  KvFollower,
  type KvFollowedEntry,
  type KvFollowerConnection,
  type MessagingOptions,
} from '@tenantry/messaging';
import { Gauge, register } from 'prom-client';
import { IpAllowList } from './ip-allow-list.js';

/** The NATS connection the bucket is watched on: the platform's `NatsService` (its namespace is the bucket's). */
export type TenantAccessConnection = KvFollowerConnection & {
  readonly options?: Pick<MessagingOptions, 'namespace'>;
};

/** A tenant's access state, as the gateway checks it on every request of the tenant's principals. */
export interface TenantAccessEntry {
  readonly access: TenantAccess;
  /** Its status is one of BARRED_TENANT_STATUSES: its principals are refused. */
  readonly barred: boolean;
  /** Its IP allow list, when not empty. */
  readonly allowList?: IpAllowList;
  /** It has an API call limit (per minute or per day): its requests are counted. */
  readonly limited: boolean;
}

export type AccessUpdate = 'applied' | 'invalid' | 'mismatched';

const BARRED = new Set<string>(BARRED_TENANT_STATUSES);
const decoder = new TextDecoder();
const followers = new Set<TenantAccessFollower>();

const metric = <T>(name: string, make: () => T): T =>
  (register.getSingleMetric(name) as T | undefined) ?? make();

metric(
  'tenantry_tenant_access_entries',
  () =>
    new Gauge({
      name: 'tenantry_tenant_access_entries',
      help: 'Tenants whose access state (status, IP allow list, API call limits) the gateway holds, by whether they are barred',
      labelNames: ['barred'],
      collect() {
        let barred = 0;
        let total = 0;
        for (const f of followers) {
          total += f.size;
          barred += f.barredCount();
        }
        this.set({ barred: 'true' }, barred);
        this.set({ barred: 'false' }, total - barred);
      },
    }),
);
metric(
  'tenantry_tenant_access_watch_live',
  () =>
    new Gauge({
      name: 'tenantry_tenant_access_watch_live',
      help: '1 while the tenant access bucket is watched live, 0 otherwise',
      collect() {
        let live = 0;
        for (const f of followers) live += f.live ? 1 : 0;
        this.set(live);
      },
    }),
);

function isStreamNotFound(error: unknown): boolean {
  return (
    (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) ||
    /stream not found/i.test((error as Error)?.message ?? '')
  );
}

/** How long the readiness check waits for a bucket it found but does not watch yet (the follower looks at most 2 s apart). */
const READY_GRACE_MS = 2_500;

/**
 * The tenants' access states, followed from the TENANT_ACCESS bucket (in the service's
 * namespace; one key per tenant id, a `TenantAccessSchema` document written by the tenants
 * service on every status, settings or limits change) into a map the guard reads on every
 * request. A bucket that does not exist yet is looked for until it does; a lost watch (NATS
 * restarted) is made again and catches up (`KvFollower`). While it is not watching, the last
 * states held stay in force: a barred tenant stays barred. An invalid document is logged and
 * the previous state kept; a deleted key forgets the tenant (no restriction at the edge).
 */
export class TenantAccessFollower {
  private readonly logger = new Logger('TenantAccess');
  private readonly entries = new Map<string, TenantAccessEntry>();
  readonly follower: KvFollower;
  private stopping = false;

  constructor(
    private readonly nats: TenantAccessConnection,
    options: { namespace?: Namespace } = {},
  ) {
    const namespace = options.namespace ?? nats.options?.namespace ?? new Namespace();
    this.follower = new KvFollower(nats, {
      bucket: namespace.bucket(TENANT_ACCESS_BUCKET),
      name: 'tenant access',
      onPut: (entry) => {
        this.put(entry);
      },
      onDelete: (key) => this.remove(key),
      onLiveChange: (live) => {
        if (!live && !this.stopping)
          this.logger.warn(
            'not watching the tenant access bucket: the states held stay in force until it comes back',
          );
      },
    });
  }

  /** The bucket's name (namespace included). */
  get bucket(): string {
    return this.follower.streamName.slice('KV_'.length);
  }

  get live(): boolean {
    return this.follower.live;
  }

  get size(): number {
    return this.entries.size;
  }

  barredCount(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.barred) count++;
    return count;
  }

  whenLive(): Promise<void> {
    return this.follower.whenLive();
  }

  start(): void {
    this.stopping = false;
    followers.add(this);
    this.follower.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    followers.delete(this);
    await this.follower.stop();
  }

  /** The tenant's state; undefined for a tenant the bucket has nothing about (nothing to enforce). */
  get(tenantId: string): TenantAccessEntry | undefined {
    return this.entries.get(tenantId) ?? this.entries.get(tenantId.toLowerCase());
  }

  /**
   * Throws, saying why, while the bucket exists but is not watched live. A bucket that does not
   * exist yet is fine: the tenants service has not written any tenant's state, so there is
   * nothing to enforce. A bucket that has just appeared is given the follower's next look
   * (at most 2 s away) before the check fails.
   */
  async assertReady(): Promise<void> {
    if (this.follower.live) return;
    try {
      await this.nats.jsm.streams.info(this.follower.streamName);
    } catch (error) {
      if (isStreamNotFound(error)) return;
      throw error;
    }
    let timer: NodeJS.Timeout | undefined;
    const live = await Promise.race([
      this.follower.whenLive().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), READY_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (live) return;
    const since = this.follower.lastLiveAt;
    throw new Error(
      since === undefined
        ? `not watching the tenant access bucket ${this.bucket} yet`
        : `not watching the tenant access bucket ${this.bucket} since ${new Date(since).toISOString()}`,
    );
  }

  /** A document from the bucket (exposed for tests). */
  put({ key, value }: Pick<KvFollowedEntry, 'key' | 'value'>): AccessUpdate {
    let parsed: ReturnType<typeof TenantAccessSchema.safeParse>;
    try {
      parsed = TenantAccessSchema.safeParse(JSON.parse(decoder.decode(value)));
    } catch {
      this.logger.error(`the access state of tenant ${key} is not JSON: kept the previous one`);
      return 'invalid';
    }
    if (!parsed.success) {
      this.logger.error(
        `the access state of tenant ${key} is invalid, kept the previous one: ${parsed.error.issues
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')
          .slice(0, 1_000)}`,
      );
      return 'invalid';
    }
    const access = parsed.data;
    const id = key.toLowerCase();
    if (access.tenantId.toLowerCase() !== id) {
      this.logger.error(
        `the access state under key ${key} is of tenant ${access.tenantId}: refused, kept the previous one`,
      );
      return 'mismatched';
    }
    const allowList = access.ipAllowList.length ? new IpAllowList(access.ipAllowList) : undefined;
    if (allowList?.invalid.length)
      this.logger.warn(
        `tenant ${key}'s IP allow list has entries that are not networks, left out: ${allowList.invalid.join(', ')}`,
      );
    const before = this.entries.get(id);
    const entry: TenantAccessEntry = {
      access,
      barred: BARRED.has(access.status),
      allowList,
      limited: access.apiCallsPerMinute !== null || access.apiCallsPerDay !== null,
    };
    this.entries.set(id, entry);
    if (before?.access.status !== access.status && (entry.barred || before?.barred))
      this.logger.log(
        `tenant ${key} is ${access.status}: its principals are ${entry.barred ? 'refused' : 'admitted'}`,
      );
    return 'applied';
  }

  remove(tenantId: string): void {
    this.entries.delete(tenantId.toLowerCase());
  }
}
