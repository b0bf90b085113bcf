import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { leafHash } from '@tenantry/audit-ledger';
import type { AuditExportProof } from '@tenantry/contracts';
import { CheckpointSealer } from '../ledger/checkpoint.sealer.js';
import { LedgerRepository, type StoredCheckpoint } from '../ledger/ledger.repository.js';
import { AuditSigningKeyService } from '../ledger/signing-key.service.js';
import { inclusionRanges, rangeRoots } from '../ledger/proof-ranges.js';
import { AuditExportErrors } from './audit-export.errors.js';

/** Leaves read per round trip while computing a proof (32 bytes each). */
const LEAF_PAGE = 10_000;

/** How long the footer waits for another instance's checkpoint covering toSeq, and how often it looks. */
const SEAL_WAIT_MS = 30_000;
const SEAL_POLL_MS = 250;

/**
 * The export's footer: a signed checkpoint whose tree covers toSeq and the inclusion proof
 * of toSeq's leaf in it (which authenticates the whole exported range: each entry's hash
 * commits to its predecessor), with the public keys. The proof is computed in one pass
 * over the tenant's leaves in pages (constant memory at any tree size).
 */
@Injectable()
export class AuditExportProofs {
  private readonly logger = new Logger(AuditExportProofs.name);

  constructor(
    @Inject(LedgerRepository) private readonly ledger: LedgerRepository,
    @Inject(AuditSigningKeyService) private readonly keys: AuditSigningKeyService,
    @Inject(ModuleRef) private readonly modules: ModuleRef,
  ) {}

  /** The ledger's sealer (LedgerModule provides it without exporting it). */
  private get sealer(): CheckpointSealer {
    return this.modules.get(CheckpointSealer, { strict: false });
  }

  async forExport(tenantId: string, toSeq: number): Promise<AuditExportProof> {
    const stored = await this.covering(tenantId, toSeq);
    const { checkpoint, signature } = stored;
    const ranges = inclusionRanges(toSeq - 1, checkpoint.treeSize);
    const proof = await rangeRoots(ranges, (from, to) => this.leafPages(tenantId, from, to));
    return {
      checkpoint,
      signature,
      keys: await this.keys.publicKeys(),
      inclusion: {
        seq: toSeq,
        treeSize: checkpoint.treeSize,
        proof: proof.map((node) => node.toString('hex')),
      },
    };
  }

  /**
   * The smallest signed tree covering toSeq. When there is none yet (toSeq is newer than
   * the last checkpoint), the tenant is sealed now; when another instance is sealing it at
   * that moment, its checkpoint is awaited.
   */
  private async covering(tenantId: string, toSeq: number): Promise<StoredCheckpoint> {
    const existing = await this.ledger.checkpointCovering(tenantId, toSeq);
    if (existing) return existing;
    const sealed = await this.sealer.seal(tenantId).catch((error: Error) => {
      this.logger.warn(`sealing tenant ${tenantId} for an export failed: ${error.message}`);
      return null;
    });
    if (sealed && sealed.checkpoint.treeSize >= toSeq) return sealed;
    const deadline = Date.now() + SEAL_WAIT_MS;
    for (;;) {
      const stored = await this.ledger.checkpointCovering(tenantId, toSeq);
      if (stored) return stored;
      if (Date.now() >= deadline) throw AuditExportErrors.notSealed(toSeq);
      await new Promise((resolve) => setTimeout(resolve, SEAL_POLL_MS));
    }
  }

  /** The leaf hashes of leaf indexes [from, to) (seq from + 1 to `to`), LEAF_PAGE at a time, checked gap-free. */
  private async *leafPages(tenantId: string, from: number, to: number): AsyncIterable<Buffer[]> {
    for (let seq = from + 1; seq <= to; seq += LEAF_PAGE) {
      const last = Math.min(seq + LEAF_PAGE - 1, to);
      const leaves = await this.ledger.leaves(tenantId, seq, last);
      leaves.forEach((leaf, i) => {
        if (leaf.seq !== seq + i)
          throw new Error(
            `the hash appended as entry ${seq + i} is missing from the ledger's leaves`,
          );
      });
      if (leaves.length !== last - seq + 1)
        throw new Error(
          `the hash appended as entry ${seq + leaves.length} is missing from the ledger's leaves`,
        );
      yield leaves.map((leaf) => leafHash(leaf.hash));
    }
  }
}
