import { Module } from '@nestjs/common';
import { AuditReadAuditor } from '../audit-events/audit-search.read-auditor.js';
import { CheckpointSealer } from './checkpoint.sealer.js';
import { LedgerNatsController } from './ledger.nats-controller.js';
import { LedgerRepository } from './ledger.repository.js';
import { LedgerService } from './ledger.service.js';
import { ledgerSettingsProvider } from './ledger.settings.js';
import { LedgerMembers } from './ledger.members.js';
import { LedgerRouter } from './ledger.router.js';
import { LedgerWriter } from './ledger.writer.js';
import { AuditSigningKeyRepository } from './signing-key.repository.js';
import { AuditSigningKeyService } from './signing-key.service.js';

/**
 * The ledger: appending chained entries (LedgerWriter, each tenant's at the audit instance
 * that owns it: LedgerMembers, LedgerRouter, used by the AUDIT consumer), the
 * checkpoint signing keys, sealing and retention (CheckpointSealer), and the evidence
 * (LedgerService: checkpoints, proofs, verify). Exports what other features read the
 * ledger with: LedgerRepository (entries in seq order, leaves, checkpoints), LedgerService
 * (proofs and verification without recording a read), CheckpointSealer (seal a tenant
 * now, prune) and AuditSigningKeyService (keys).
 */
@Module({
  controllers: [LedgerNatsController],
  providers: [
    ledgerSettingsProvider,
    LedgerRepository,
    LedgerWriter,
    LedgerMembers,
    LedgerRouter,
    LedgerService,
    CheckpointSealer,
    AuditSigningKeyRepository,
    AuditSigningKeyService,
    AuditReadAuditor,
  ],
  exports: [
    LedgerRepository,
    LedgerWriter,
    LedgerRouter,
    LedgerService,
    CheckpointSealer,
    AuditSigningKeyService,
  ],
})
export class LedgerModule {}
