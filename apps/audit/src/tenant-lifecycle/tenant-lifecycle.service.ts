import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  PLATFORM_TENANT_ID,
  type BootstrapTenantRequest,
  type LifecycleOutput,
  type TenantExport,
  type TenantProfile,
  type TenantRemoval,
  type TenantUsage,
} from '@tenantry/contracts';
import { genesisEvent, genesisEventId } from '../ledger/genesis.js';
import { LedgerRepository } from '../ledger/ledger.repository.js';
import { LedgerService, signed } from '../ledger/ledger.service.js';
import { LedgerWriter } from '../ledger/ledger.writer.js';
import { TenantLifecycleErrors } from './tenant-lifecycle.errors.js';
import { TenantLifecycleRepository } from './tenant-lifecycle.repository.js';

/**
 * The tenant's retention in days as the tenants service sets it: its settings', else its
 * plan's; 0 (kept forever) when both are unlimited.
 */
export function retentionOf(profile: TenantProfile): number {
  return profile.settings.auditRetentionDays ?? profile.limits.auditRetentionDays ?? 0;
}

/**
 * The audit service's part in a tenant's life (`TenantLifecycleRpc.audit.*`), every verb
 * idempotent: bootstrap opens the tenant's chain with its genesis entry and registers its
 * retention; compensate and remove purge the chain (entries, leaves, head, checkpoints,
 * sinks) through `audit_purge_tenant`, never the platform tenant's.
 */
@Injectable()
export class TenantLifecycleService {
  private readonly logger = new Logger('TenantLifecycle');

  constructor(
    @Inject(LedgerWriter) private readonly writer: LedgerWriter,
    @Inject(LedgerService) private readonly ledger: LedgerService,
    @Inject(LedgerRepository) private readonly entries: LedgerRepository,
    @Inject(TenantLifecycleRepository) private readonly chains: TenantLifecycleRepository,
  ) {}

  /**
   * Appends the tenant's genesis entry unless its chain holds it (its id is derived from the
   * tenant id; the entry also goes first when the tenant's `tenant.created` opened the chain),
   * and registers the tenant's retention. A chain purged before (a failed provisioning run
   * again) is opened again.
   */
  async bootstrap(request: BootstrapTenantRequest): Promise<LifecycleOutput> {
    const { tenantId, slug, plan, runId } = request;
    if (tenantId === PLATFORM_TENANT_ID) throw TenantLifecycleErrors.platformTenant('bootstrap');
    const reopened = await this.chains.reopen(tenantId);
    const genesis = genesisEvent(tenantId, { slug, plan, runId });
    const { appended } = await this.writer.append([{ event: genesis, streamSequence: 0 }]);
    const retentionDays = retentionOf(request);
    await this.chains.register(tenantId, retentionDays);
    const genesisSeq = await this.chains.entrySeq(tenantId, genesis.id);
    if (genesisSeq === null) throw TenantLifecycleErrors.genesisMissing(tenantId);
    return {
      output: {
        genesis: appended ? 'appended' : 'present',
        genesisId: genesis.id,
        genesisSeq,
        retentionDays,
        ...(reopened ? { reopened: true } : {}),
      },
    };
  }

  /** Undoes bootstrap: the tenant's chain purged. */
  async compensate(request: BootstrapTenantRequest): Promise<LifecycleOutput> {
    const { removed } = await this.remove(request.tenantId, 'compensate');
    return { output: { removed } };
  }

  /** Registers the tenant's (new) retention. */
  async configure(profile: TenantProfile): Promise<LifecycleOutput> {
    if (profile.tenantId === PLATFORM_TENANT_ID)
      throw TenantLifecycleErrors.platformTenant('configure');
    const retentionDays = retentionOf(profile);
    await this.chains.register(profile.tenantId, retentionDays);
    return { output: { retentionDays } };
  }

  /**
   * Checks the tenant's chain holds its genesis entry and verifies (every entry rehashed and
   * chained, every checkpoint's signature and root). The genesis is the first entry unless an
   * event of another service reached the ledger before both the tenant's `tenant.created` and
   * the audit step (`genesisSeq` says where it is; that alone fails nothing).
   */
  async verify(request: BootstrapTenantRequest): Promise<LifecycleOutput> {
    const { tenantId } = request;
    const genesisSeq = await this.chains.entrySeq(tenantId, genesisEventId(tenantId));
    if (genesisSeq === null) throw TenantLifecycleErrors.genesisMissing(tenantId);
    if (genesisSeq !== 1)
      this.logger.warn(
        `tenant ${tenantId}: the genesis entry is entry ${genesisSeq}, not the first`,
      );
    const verification = await this.ledger.verifyLedger(tenantId);
    if (!verification.ok && verification.firstBad)
      throw TenantLifecycleErrors.chainInvalid(tenantId, verification.firstBad);
    return {
      output: {
        genesisSeq,
        checked: verification.checked,
        checkpoints: verification.checkpoints,
      },
    };
  }

  /** `auditEntries`: the entries the tenant's chain holds. */
  async usage(tenantId: string): Promise<TenantUsage> {
    const { entries } = await this.chains.summary(tenantId);
    return { usage: { auditEntries: entries } };
  }

  /** Nothing to do: a suspended tenant's chain stays as it is (events about it go on). */
  suspend(): LifecycleOutput {
    return { output: {} };
  }

  /**
   * A summary of the tenant's chain: entries, head and latest checkpoint (the entries
   * themselves are the NDJSON export's, `audit.events.export`, verifiable offline).
   */
  async export(tenantId: string): Promise<TenantExport> {
    const summary = await this.chains.summary(tenantId);
    const latest = await this.entries.checkpointAtMost(tenantId, Number.MAX_SAFE_INTEGER);
    return {
      data: {
        audit_chain: summary.headSeq
          ? [{ ...summary, latestCheckpoint: latest ? signed(latest) : null }]
          : [],
      },
    };
  }

  /** Purges the tenant's chain and sinks; the rows removed, by table. */
  async remove(tenantId: string, verb = 'remove'): Promise<TenantRemoval> {
    if (tenantId === PLATFORM_TENANT_ID) throw TenantLifecycleErrors.platformTenant(verb);
    const removed = await this.chains.purge(tenantId);
    const total = Object.values(removed).reduce((sum, n) => sum + n, 0);
    if (total) this.logger.log(`tenant ${tenantId}: audit chain purged (${total} rows)`);
    return { removed };
  }
}
