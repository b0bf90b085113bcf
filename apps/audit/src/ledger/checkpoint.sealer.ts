import { uuidv7 } from '@tenantry/runtime';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { leafHash, signCheckpoint, type Checkpoint } from '@tenantry/audit-ledger';
import type { EntityManager } from 'typeorm';
import { InjectLedgerSettings, type LedgerSettings } from './ledger.settings.js';
import { LedgerRepository, type StoredCheckpoint } from './ledger.repository.js';
import { MerkleFrontier, restoreFrontier } from './merkle-frontier.js';
import { AuditSigningKeyService } from './signing-key.service.js';

/** Leaves read per query while sealing. */
const LEAF_PAGE = 10_000;
/** Tenants listed per query by the sealing round and the retention walk. */
const TENANT_PAGE = 500;
/** Tenants sealed at the same time (each holds a database connection). */
const CONCURRENCY = 4;
const DAY_MS = 24 * 60 * 60 * 1000;
/** The first retention run waits this long after start-up. */
const RETENTION_FIRST_RUN_MS = 60_000;

/**
 * Seals the chains into signed checkpoints: every AUDIT_CHECKPOINT_SECONDS, each tenant
 * whose head moved since its last checkpoint gets one over its whole tree (RFC 9162 root),
 * signed with the current Ed25519 key. Incremental: the root is computed from the previous
 * checkpoint's saved frontier (checked against its signed root) and the leaves appended
 * since. One instance seals a tenant at a time (a try-lock: the others skip it this round).
 * Also runs retention daily: whole sealed segments older than the tenant's retention (its
 * own, set by the tenants service, else AUDIT_RETENTION_DAYS; 0 keeps everything) are
 * removed by `audit_prune` and a signed tombstone checkpoint says so.
 */
@Injectable()
export class CheckpointSealer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('CheckpointSealer');
  private sealTimer?: NodeJS.Timeout;
  private retentionTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly rounds = new Set<Promise<unknown>>();

  constructor(
    @Inject(LedgerRepository) private readonly ledger: LedgerRepository,
    @Inject(AuditSigningKeyService) private readonly keys: AuditSigningKeyService,
    @InjectLedgerSettings() private readonly settings: LedgerSettings,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduleSeal(this.settings.checkpointIntervalMs);
    this.scheduleRetention(RETENTION_FIRST_RUN_MS);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.sealTimer);
    clearTimeout(this.retentionTimer);
    await Promise.allSettled([...this.rounds]);
  }

  /** Seals every tenant whose chain grew; how many checkpoints it wrote. */
  async sealAll(): Promise<number> {
    let written = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const tenants = await this.ledger.tenantsToSeal(after, TENANT_PAGE);
      for (let i = 0; i < tenants.length; i += CONCURRENCY) {
        const sealed = await Promise.all(
          tenants.slice(i, i + CONCURRENCY).map((tenantId) =>
            this.seal(tenantId).catch((error: Error) => {
              this.logger.warn(`sealing tenant ${tenantId} failed: ${error.message}`);
              return null;
            }),
          ),
        );
        written += sealed.filter(Boolean).length;
      }
      if (tenants.length < TENANT_PAGE || this.stopped) return written;
      after = tenants[tenants.length - 1]!;
    }
  }

  /**
   * A signed checkpoint over the tenant's whole chain when it grew since the last one;
   * null when it did not, or another instance is sealing it now.
   */
  seal(tenantId: string): Promise<StoredCheckpoint | null> {
    return this.ledger.inTransaction(async (manager) => {
      if (!(await this.ledger.trySealLock(manager, tenantId))) return null;
      return this.sealLocked(manager, tenantId, null);
    });
  }

  /**
   * Retention for one tenant: removes its entries up to the largest sealed tree size whose
   * entries were all recorded before `before` (never part of a segment, never an entry not
   * yet sealed), and writes a signed tombstone checkpoint naming the last seq removed, in
   * the same transaction. Null when there was nothing to remove (or another instance is
   * sealing the tenant now).
   */
  prune(tenantId: string, before: Date): Promise<StoredCheckpoint | null> {
    return this.ledger.inTransaction(async (manager) => {
      if (!(await this.ledger.trySealLock(manager, tenantId))) return null;
      const through = await this.ledger.pruneIn(manager, tenantId, before);
      if (through === null) return null;
      const tombstone = await this.sealLocked(manager, tenantId, through);
      this.logger.log(`retention removed tenant ${tenantId}'s entries up to seq ${through}`);
      return tombstone;
    });
  }

  /**
   * Retention for every tenant: entries older than the tenant's own retention, or
   * AUDIT_RETENTION_DAYS for a tenant without one (0: kept forever). How many tenants it
   * pruned.
   */
  async runRetention(now: Date = new Date()): Promise<number> {
    let pruned = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const tenants = await this.ledger.tenantsAfter(after, TENANT_PAGE);
      for (const { tenantId, retentionDays } of tenants) {
        if (this.stopped) return pruned;
        const days = retentionDays ?? this.settings.retentionDays;
        if (days === 0) continue;
        const before = new Date(now.getTime() - days * DAY_MS);
        const tombstone = await this.prune(tenantId, before).catch((error: Error) => {
          this.logger.warn(`retention for tenant ${tenantId} failed: ${error.message}`);
          return null;
        });
        if (tombstone) pruned++;
      }
      if (tenants.length < TENANT_PAGE) return pruned;
      after = tenants[tenants.length - 1]!.tenantId;
    }
  }

  /**
   * Under the tenant's sealing lock: the tree of the whole chain, from the last checkpoint's
   * frontier and the leaves since, signed as a checkpoint, or as a tombstone when
   * `prunedThroughSeq` is given (always written then).
   */
  private async sealLocked(
    manager: EntityManager,
    tenantId: string,
    prunedThroughSeq: number | null,
  ): Promise<StoredCheckpoint | null> {
    const head = await this.ledger.headIn(manager, tenantId);
    const last = await this.ledger.latestCheckpointIn(manager, tenantId);
    if (
      prunedThroughSeq === null &&
      (head.seq === 0 || (last?.checkpoint.treeSize ?? 0) >= head.seq)
    ) {
      await this.ledger.markSealed(manager, tenantId, head.seq);
      return null;
    }
    let frontier = (last && restoreFrontier(last)) ?? null;
    if (last && !frontier)
      this.logger.warn(
        `tenant ${tenantId}: the checkpoint of tree size ${last.checkpoint.treeSize} does not match its saved frontier; recomputing from the first leaf`,
      );
    frontier ??= MerkleFrontier.empty();
    for (let from = frontier.size + 1; from <= head.seq; from += LEAF_PAGE) {
      const to = Math.min(head.seq, from + LEAF_PAGE - 1);
      for (const leaf of await this.ledger.leavesIn(manager, tenantId, from, to)) {
        if (leaf.seq !== frontier.size + 1)
          throw new Error(
            `the hash appended as entry ${frontier.size + 1} is missing from the leaves`,
          );
        frontier.push(leafHash(leaf.hash));
      }
    }
    if (frontier.size !== head.seq)
      throw new Error(`the leaves end at ${frontier.size}, the head is at ${head.seq}`);
    const key = await this.keys.current();
    const now = new Date();
    const checkpoint: Checkpoint = {
      tenantId,
      treeSize: head.seq,
      rootHash: frontier.root().toString('hex'),
      // Never before the key's validity (another instance's clock may run a little behind).
      issuedAt: new Date(Math.max(now.getTime(), Date.parse(key.notBefore))).toISOString(),
      keyId: key.keyId,
      kind: prunedThroughSeq === null ? 'checkpoint' : 'tombstone',
      prunedThroughSeq,
    };
    const stored: StoredCheckpoint = {
      id: uuidv7(),
      checkpoint,
      signature: signCheckpoint(checkpoint, key.privateKey),
      frontier: frontier.bytes(),
    };
    await this.ledger.insertCheckpoint(manager, stored);
    return stored;
  }

  private scheduleSeal(delayMs: number): void {
    if (this.stopped) return;
    this.sealTimer = setTimeout(() => {
      const round = this.sealAll()
        .catch((error: Error) => this.logger.warn(`sealing round failed: ${error.message}`))
        .finally(() => {
          this.rounds.delete(round);
          this.scheduleSeal(this.settings.checkpointIntervalMs);
        });
      this.rounds.add(round);
    }, delayMs);
    this.sealTimer.unref();
  }

  private scheduleRetention(delayMs: number): void {
    if (this.stopped) return;
    this.retentionTimer = setTimeout(() => {
      const round = this.runRetention()
        .catch((error: Error) => this.logger.warn(`retention failed: ${error.message}`))
        .finally(() => {
          this.rounds.delete(round);
          this.scheduleRetention(DAY_MS);
        });
      this.rounds.add(round);
    }, delayMs);
    this.retentionTimer.unref();
  }
}
