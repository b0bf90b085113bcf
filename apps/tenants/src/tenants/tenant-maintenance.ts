import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  InjectTenantRegistrySettings,
  type TenantRegistrySettings,
} from './tenant-registry.settings.js';
import { TenantService } from './tenant.service.js';

const MAX_BACKOFF_MS = 30_000;
/**
 * How far back each pass looks for changed tenants, beyond the previous pass's start: a
 * transaction stamps updated_at when it begins, and may commit after a pass looked.
 */
const OVERLAP_MS = 2 * 60_000;

/** What one pass did. */
export interface MaintenancePass {
  applied: number;
  deferred: number;
  configured: number;
  configureFailed: number;
  published: number;
}

/**
 * The registry's periodic work, every TENANT_MAINTENANCE_SECONDS (and at start):
 *
 * - applies the plan changes scheduled for the period end that are due;
 * - configures the participants of tenants whose profile they missed (a participant was
 *   away during a change, or the tenant's plan was edited);
 * - writes the access state of every tenant changed since the previous pass into the
 *   TENANT_ACCESS bucket; at start, of every tenant (a lost bucket heals itself).
 *
 * While the database or NATS is away it retries with backoff (up to 30 s).
 */
@Injectable()
export class TenantMaintenance implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('TenantMaintenance');
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  /** Where the next pass starts looking for changed tenants; null: every tenant. */
  private since: Date | null = null;
  /** Passes completed; for tests and logs. */
  passes = 0;

  constructor(
    @Inject(TenantService) private readonly tenants: TenantService,
    @InjectTenantRegistrySettings() private readonly settings: TenantRegistrySettings,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** One pass (the loop's, or a test's); `now` decides which plan changes are due. */
  async runOnce(now = new Date()): Promise<MaintenancePass> {
    const started = new Date();
    const { applied, deferred } = await this.tenants.applyDuePlanChanges(now);
    const { configured, failed } = await this.tenants.configureBehind();
    const published = await this.tenants.republishAccess(this.since);
    // Only a pass that wrote every access state moves on; otherwise the next looks again.
    this.since = new Date(started.getTime() - OVERLAP_MS);
    if (applied || deferred || configured || failed || published) {
      this.logger.log(
        `plan changes applied ${applied}, deferred ${deferred}; participants configured ${configured}, failed ${failed}; access states written ${published}`,
      );
    }
    return { applied, deferred, configured, configureFailed: failed, published };
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.runOnce();
        failures = 0;
        this.passes++;
        await this.sleep(this.settings.maintenanceIntervalMs);
      } catch (error) {
        if (this.stopped) break;
        failures++;
        const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 10));
        if (failures === 1 || failures % 10 === 0) {
          this.logger.warn(
            `tenant maintenance failed (attempt ${failures}), retrying in ${delay} ms: ${(error as Error).message}`,
          );
        }
        await this.sleep(delay);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = undefined;
    });
  }
}
