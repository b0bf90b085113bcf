import { Logger } from '@nestjs/common';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Namespace, PLATFORM_TENANT_ID, PolicySnapshots } from '@tenantry/contracts';
import {
  KvFollower,
  type KvFollowedEntry,
  type KvFollowerConnection,
  type MessagingOptions,
} from '@tenantry/messaging';
import { compile, PolicyStore, type SnapshotStatus } from '@tenantry/policy-engine';
import { Counter, Gauge, register } from 'prom-client';

export interface PolicySnapshotFollowerOptions {
  /** How long a snapshot may be used without the watch confirming it (default PolicySnapshots.maxStaleSeconds). */
  maxAgeMs?: number;
  /** How often held snapshots are confirmed while the watch is live (default 1 s). */
  confirmEveryMs?: number;
  /** Wall clock (tests). */
  clock?: () => number;
  /**
   * The Tenantry namespace the bucket is in (`TENANTRY_NAMESPACE`; none in production). By
   * default the namespace of the platform's `NatsService`, else none.
   */
  namespace?: Namespace | string;
}

/**
 * The NATS connection a follower watches the bucket on: the platform's `NatsService` (its
 * namespace is the bucket's), or what `PolicySnapshotFollower.connect` makes of a plain
 * `@nats-io/transport-node` connection.
 */
export type PolicySnapshotConnection = KvFollowerConnection & {
  readonly options?: Pick<MessagingOptions, 'namespace'>;
};

export type SnapshotUpdate =
  'applied' | 'unchanged' | 'older' | 'invalid' | 'mismatched' | 'deleted';

const decoder = new TextDecoder();

function namespaceOf(
  nats: PolicySnapshotConnection,
  options: PolicySnapshotFollowerOptions,
): Namespace {
  const given = options.namespace;
  if (given !== undefined) return typeof given === 'string' ? new Namespace(given) : given;
  return nats.options?.namespace ?? new Namespace();
}

/** JetStream clients and the connection state of a plain connection, as `KvFollower` needs them. */
async function followerConnection(nc: NatsConnection): Promise<KvFollowerConnection> {
  const js = jetstream(nc, { timeout: 5_000 });
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') connected = false;
      else if (status.type === 'reconnect') connected = true;
    }
  })().catch(() => undefined);
  return {
    nc,
    js,
    jsm,
    get isConnected() {
      return connected && !nc.isClosed();
    },
  };
}

const followers = new Set<PolicySnapshotFollower>();

function metric<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

/** Per scrape, over every follower of the process (usually one). */
function snapshotsOf(fn: (f: PolicySnapshotFollower) => number): number {
  let total = 0;
  for (const f of followers) total += fn(f);
  return total;
}

const metrics = {
  updates: metric(
    'tenantry_policy_snapshot_updates_total',
    () =>
      new Counter({
        name: 'tenantry_policy_snapshot_updates_total',
        help: 'Policy snapshots received from the bucket, by what became of them (applied, unchanged, older, invalid, mismatched, deleted)',
        labelNames: ['result'],
      }),
  ),
  held: metric(
    'tenantry_policy_snapshots',
    () =>
      new Gauge({
        name: 'tenantry_policy_snapshots',
        help: 'Tenant policy snapshots held, fresh (usable) or stale (decisions fail closed)',
        labelNames: ['state'],
        collect() {
          const all = [...followers].flatMap((f) => f.store.list());
          const fresh = all.filter((s) => s.fresh).length;
          this.set({ state: 'fresh' }, fresh);
          this.set({ state: 'stale' }, all.length - fresh);
        },
      }),
  ),
  maxAge: metric(
    'tenantry_policy_snapshot_max_age_seconds',
    () =>
      new Gauge({
        name: 'tenantry_policy_snapshot_max_age_seconds',
        help: 'Age of the oldest policy snapshot held since it was put or last confirmed (stale above PolicySnapshots.maxStaleSeconds)',
        collect() {
          const ages = [...followers].flatMap((f) => f.store.list().map((s) => s.ageMs));
          this.set(ages.length ? Math.max(...ages) / 1000 : 0);
        },
      }),
  ),
  platformVersion: metric(
    'tenantry_policy_platform_version',
    () =>
      new Gauge({
        name: 'tenantry_policy_platform_version',
        help: "Version of the platform tenant's policy snapshot held (0: none)",
        collect() {
          this.set(snapshotsOf((f) => f.store.status(PLATFORM_TENANT_ID)?.version ?? 0));
        },
      }),
  ),
  versionsSum: metric(
    'tenantry_policy_snapshot_versions_sum',
    () =>
      new Gauge({
        name: 'tenantry_policy_snapshot_versions_sum',
        help: 'Sum of the versions of every policy snapshot held: changes whenever one does (compare instances)',
        collect() {
          this.set(snapshotsOf((f) => f.store.list().reduce((sum, s) => sum + s.version, 0)));
        },
      }),
  ),
  live: metric(
    'tenantry_policy_watch_live',
    () =>
      new Gauge({
        name: 'tenantry_policy_watch_live',
        help: '1 while the policy snapshot bucket is watched live, 0 otherwise',
        collect() {
          this.set(snapshotsOf((f) => (f.live ? 1 : 0)));
        },
      }),
  ),
};

/**
 * A process's policy snapshots (the gateway's, the policy service's, a product's own service's):
 * a `PolicyStore` fed by a watch of the POLICY_SNAPSHOTS bucket (key: tenant id, value: the
 * tenant's policy document). Each document is compiled when it arrives; an invalid one is logged and the previous snapshot kept; an older version never
 * replaces a newer one; a deleted key forgets the tenant. While the watch is live every held
 * snapshot is confirmed each second, so snapshots go stale (and decisions fail closed with
 * `policy-unavailable`) only when the process has not been able to watch the bucket for
 * `maxAgeMs` (PolicySnapshots.maxStaleSeconds).
 */
export class PolicySnapshotFollower {
  private readonly logger = new Logger('PolicySnapshots');
  readonly store: PolicyStore;
  readonly follower: KvFollower;
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private readonly confirmEveryMs: number;

  /**
   * Follows the bucket over a plain `@nats-io/transport-node` connection (a product's own
   * service): the connection stays the caller's (`stop` does not close it).
   */
  static async connect(
    nc: NatsConnection,
    options: PolicySnapshotFollowerOptions = {},
  ): Promise<PolicySnapshotFollower> {
    return new PolicySnapshotFollower(await followerConnection(nc), options);
  }

  constructor(nats: PolicySnapshotConnection, options: PolicySnapshotFollowerOptions = {}) {
    this.store = new PolicyStore({
      maxAgeMs: options.maxAgeMs ?? PolicySnapshots.maxStaleSeconds * 1000,
      clock: options.clock,
    });
    this.confirmEveryMs = options.confirmEveryMs ?? 1_000;
    this.follower = new KvFollower(nats, {
      bucket: namespaceOf(nats, options).bucket(PolicySnapshots.bucket),
      name: 'policy snapshots',
      onPut: (entry) => {
        this.put(entry);
      },
      onDelete: (key) => {
        this.remove(key);
      },
      onLiveChange: (live) => {
        if (live) this.confirmAll();
        else if (!this.stopping)
          this.logger.warn('not watching the policy snapshots: they go stale unless it comes back');
      },
    });
  }

  get bucket(): string {
    return this.follower.streamName.slice('KV_'.length);
  }

  get live(): boolean {
    return this.follower.live;
  }

  /** Resolves once the watch is live: every snapshot the bucket held when it started is loaded. */
  whenLive(): Promise<void> {
    return this.follower.whenLive();
  }

  start(): void {
    this.stopping = false;
    followers.add(this);
    this.follower.start();
    this.timer = setInterval(() => {
      if (this.follower.live) this.confirmAll();
    }, this.confirmEveryMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    followers.delete(this);
    await this.follower.stop();
  }

  status(tenantId: string): SnapshotStatus | undefined {
    return this.store.status(tenantId);
  }

  /** Throws, saying why, until the platform's snapshot is loaded and fresh and the watch is live. */
  assertReady(): void {
    if (!this.follower.live) {
      const since = this.follower.lastLiveAt;
      throw new Error(
        since === undefined
          ? `not watching the policy snapshots (bucket ${this.bucket}) yet`
          : `not watching the policy snapshots (bucket ${this.bucket}) since ${new Date(since).toISOString()}`,
      );
    }
    const platform = this.store.status(PLATFORM_TENANT_ID);
    if (!platform)
      throw new Error(
        `the platform tenant's policy is not in the bucket ${this.bucket} yet (the policy service publishes it)`,
      );
    if (!platform.fresh)
      throw new Error(`the platform tenant's policy (version ${platform.version}) is stale`);
  }

  /** A document from the bucket (exposed for tests). */
  put(entry: Pick<KvFollowedEntry, 'key' | 'value'>): SnapshotUpdate {
    const result = this.apply(entry);
    metrics.updates.inc({ result });
    return result;
  }

  remove(tenantId: string): void {
    if (this.store.get(tenantId))
      this.logger.log(`tenant ${tenantId}'s policy was deleted: forgotten`);
    this.store.remove(tenantId);
    metrics.updates.inc({ result: 'deleted' });
  }

  private apply({ key, value }: Pick<KvFollowedEntry, 'key' | 'value'>): SnapshotUpdate {
    let document: unknown;
    try {
      document = JSON.parse(decoder.decode(value));
    } catch {
      this.logger.error(`the policy of tenant ${key} is not JSON: kept the previous snapshot`);
      return 'invalid';
    }
    const { tenantId, version } = (document ?? {}) as { tenantId?: unknown; version?: unknown };
    if (tenantId !== key) {
      // A document is only ever its own tenant's: one stored under another key is refused.
      this.logger.error(
        `the document under key ${key} is of tenant ${String(tenantId)}: refused, kept the previous snapshot`,
      );
      return 'mismatched';
    }
    const held = this.store.get(key);
    if (held && typeof version === 'number') {
      if (held.version === version) {
        this.store.confirm(key, version);
        return 'unchanged';
      }
      if (held.version > version) {
        this.logger.warn(
          `the policy of tenant ${key} went back from version ${held.version} to ${version}: kept ${held.version}`,
        );
        return 'older';
      }
    }
    try {
      const policy = compile(document);
      if (!this.store.put(policy)) return 'older';
      this.logger.debug(`tenant ${key}'s policy is now version ${policy.version}`);
      return 'applied';
    } catch (error) {
      this.logger.error(
        `the policy of tenant ${key} (version ${String(version)}) is invalid, kept ${
          held ? `version ${held.version}` : 'none'
        }: ${(error as Error).message.slice(0, 2_000)}`,
      );
      return 'invalid';
    }
  }

  private confirmAll(): void {
    this.store.confirmAll();
  }
}
