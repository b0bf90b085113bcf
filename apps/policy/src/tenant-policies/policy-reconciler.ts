import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { PLATFORM_TENANT_ID } from '@tenantry/contracts';
import { DEFAULT_POLICY_STATUSES, TenantDirectory } from '../core/tenant-directory.js';
import { InjectPolicySettings, type PolicySettings } from '../policy.settings.js';
import { PolicyPublisher } from './policy-publisher.js';
import { TenantPolicyRepository, type Publication } from './tenant-policy.repository.js';
import { TenantPolicyService } from './tenant-policy.service.js';

const PAGE = 500;
const MAX_BACKOFF_MS = 30_000;

/**
 * Keeps the snapshot bucket in step with the database, whose published_version is the truth:
 *
 * - at start: makes sure the platform tenant has its policy, and every `active` or
 *   `suspended` tenant the tenants service lists (one created before the provisioning
 *   pipeline) has one (a `provisioning` tenant's policy is the pipeline's policy step's, with
 *   its plan's roles; `deprovisioning`, `deleted` and `failed` tenants get none); then
 *   publishes every tenant whose published version is behind, or whose bucket entry is
 *   missing or older;
 * - then every POLICY_RECONCILE_SECONDS, and soon after a publication failed: publishes
 *   every tenant behind, or whose key is missing from the bucket (deleted, or the bucket lost
 *   with a NATS server), and deletes the key of a tenant that no longer has a policy (a
 *   publication that raced the tenant's removal);
 * - while NATS or the database is away, it retries with backoff (up to 30 s).
 */
@Injectable()
export class PolicyReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('PolicyReconciler');
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private kicked = false;
  private platformReady = false;
  private backfilled = false;
  private backfillFailures = 0;
  /** Passes completed; for tests and logs. */
  passes = 0;

  constructor(
    @Inject(TenantPolicyRepository) private readonly policies: TenantPolicyRepository,
    @Inject(TenantPolicyService) private readonly service: TenantPolicyService,
    @Inject(PolicyPublisher) private readonly publisher: PolicyPublisher,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
    @InjectPolicySettings() private readonly settings: PolicySettings,
  ) {
    publisher.onRetryWanted(() => this.kick());
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** Runs a pass soon (a publication failed, or a test wants one). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /**
   * One pass: returns how many tenants it published. `full` also reads each tenant's entry
   * to find one older than the database's version (at start).
   */
  async reconcile(full: boolean): Promise<number> {
    if (!this.platformReady) {
      await this.service.ensure(PLATFORM_TENANT_ID);
      this.platformReady = true;
    }
    if (!this.backfilled) await this.backfill();
    const keys = full ? undefined : await this.publisher.keys();
    const orphans = new Set(keys);
    let published = 0;
    const failures: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.policies.publications(PAGE, after);
      for (const row of page) {
        orphans.delete(row.tenantId);
        if (this.stopped) return published;
        try {
          if (await this.needsPublishing(row, keys)) {
            await this.publishFromDatabase(row.tenantId);
            published++;
          }
        } catch (error) {
          failures.push(`${row.tenantId}: ${(error as Error).message}`);
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.tenantId;
    }
    // The keys were listed before the rows: a key written since belongs to a row listed here,
    // so a key left over has no policy behind it (its row was removed).
    for (const tenantId of orphans) {
      if (this.stopped) return published;
      try {
        if (await this.publisher.unpublish(tenantId))
          this.logger.log(`tenant ${tenantId}: deleted the snapshot of a removed policy`);
      } catch (error) {
        failures.push(`${tenantId}: ${(error as Error).message}`);
      }
    }
    if (published) this.logger.log(`published ${published} tenant policies`);
    if (failures.length) {
      throw new Error(
        `${failures.length} tenant(s) not published: ${failures.slice(0, 3).join('; ')}`,
      );
    }
    return published;
  }

  /**
   * Gives every `active` or `suspended` tenant the tenants service lists, and that has no
   * policy yet, its default policy. Once per process; while the tenants service does not
   * answer, it is tried again on the next pass, and publishing goes on meanwhile.
   */
  private async backfill(): Promise<void> {
    try {
      const known = new Set<string>();
      let after: string | undefined;
      for (;;) {
        const page = await this.policies.publications(PAGE, after);
        for (const row of page) known.add(row.tenantId);
        if (page.length < PAGE) break;
        after = page[page.length - 1]!.tenantId;
      }
      let created = 0;
      for await (const tenant of this.tenants.all()) {
        if (known.has(tenant.id) || !DEFAULT_POLICY_STATUSES.includes(tenant.status)) continue;
        if (await this.service.ensure(tenant.id)) created++;
      }
      if (created) this.logger.log(`gave ${created} existing tenant(s) their default policy`);
      this.backfilled = true;
    } catch (error) {
      this.backfillFailures++;
      if (this.backfillFailures === 1 || this.backfillFailures % 10 === 0) {
        this.logger.warn(
          `listing the tenants failed (attempt ${this.backfillFailures}); trying again next pass: ${(error as Error).message}`,
        );
      }
    }
  }

  private async needsPublishing(row: Publication, keys?: Set<string>): Promise<boolean> {
    if (row.publishedVersion < row.version) return true;
    if (keys) return !keys.has(row.tenantId);
    return (await this.publisher.versionInBucket(row.tenantId)) < row.version;
  }

  /** Publishes the tenant's current document as the database has it. */
  private async publishFromDatabase(tenantId: string): Promise<void> {
    const current = await this.policies.get(tenantId);
    if (current) await this.publisher.publish(current.document);
  }

  private async run(): Promise<void> {
    let failures = 0;
    let full = true;
    while (!this.stopped) {
      this.kicked = false;
      try {
        await this.reconcile(full);
        full = false;
        failures = 0;
        this.passes++;
        await this.sleep(this.settings.reconcileIntervalMs);
      } catch (error) {
        failures++;
        const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 10));
        if (failures === 1 || failures % 10 === 0) {
          this.logger.warn(
            `reconciling the policy snapshots failed (attempt ${failures}), retrying in ${delay} ms: ${(error as Error).message}`,
          );
        }
        await this.sleep(delay, false);
      }
    }
  }

  /** Waits `ms`, or less when kicked (unless `wakeOnKick` is false: a backoff runs its course). */
  private sleep(ms: number, wakeOnKick = true): Promise<void> {
    if (this.stopped || (wakeOnKick && this.kicked)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        if (this.stopped || wakeOnKick) done();
      };
    }).finally(() => {
      this.wake = undefined;
    });
  }
}
