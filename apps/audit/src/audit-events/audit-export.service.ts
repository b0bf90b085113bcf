import { Inject, Injectable } from '@nestjs/common';
import type {
  AuditExportProof,
  AuditExportRange,
  LedgerEntryMessage,
  RpcPayload,
  AuditEventRpc,
} from '@tenantry/contracts';
import { NatsService } from '@tenantry/messaging';
import { AuditExportErrors } from './audit-export.errors.js';
import { AuditExportProofs } from './audit-export.proofs.js';
import { AuditExportRepository } from './audit-export.repository.js';
import { AuditReadAuditor } from './audit-search.read-auditor.js';

/** NATS's default max payload, when the server does not say. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * The export of a tenant's ledger (`audit.events.export-begin`, `-page`, `-proof`): the
 * gateway resolves the range once (recorded as `audit.exported`), pulls the entries page
 * by page in seq order, then the proof that authenticates them.
 */
@Injectable()
export class AuditExportService {
  /** A page's budget: three quarters of what the NATS server carries in one message. */
  private readonly pageBytes: number;

  constructor(
    @Inject(AuditExportRepository) private readonly repository: AuditExportRepository,
    @Inject(AuditExportProofs) private readonly proofs: AuditExportProofs,
    @Inject(AuditReadAuditor) private readonly reads: AuditReadAuditor,
    @Inject(NatsService) nats: NatsService,
  ) {
    this.pageBytes = Math.floor(((nats.nc.info?.max_payload ?? 0) || DEFAULT_MAX_PAYLOAD) * 0.75);
  }

  /**
   * The range to export: fromSeq defaults to the oldest entry kept, toSeq to the newest
   * now (later entries, including this export's own `audit.exported`, are not in it).
   * Refuses a range outside what the ledger holds, naming the field. The export is
   * recorded before the first entry leaves.
   */
  async begin(request: RpcPayload<typeof AuditEventRpc.exportBegin>): Promise<AuditExportRange> {
    const { tenantId } = request;
    const { firstSeq, headSeq } = await this.repository.extent(tenantId);
    if (headSeq === 0 || firstSeq === null) throw AuditExportErrors.empty(tenantId);
    const fromSeq = request.fromSeq ?? firstSeq;
    const toSeq = request.toSeq ?? headSeq;
    if (request.fromSeq !== undefined && request.fromSeq > headSeq)
      throw AuditExportErrors.pastHead('fromSeq', request.fromSeq, headSeq);
    if (toSeq > headSeq) throw AuditExportErrors.pastHead('toSeq', toSeq, headSeq);
    if (fromSeq < firstSeq) throw AuditExportErrors.pruned('fromSeq', fromSeq, firstSeq);
    if (toSeq < firstSeq) throw AuditExportErrors.pruned('toSeq', toSeq, firstSeq);
    const exportedAt = new Date().toISOString();
    await this.reads.record({
      tenantId,
      action: 'audit.exported',
      severity: 'notice',
      reader: request.reader,
      what: 'export',
      data: { format: request.format, fromSeq, toSeq, entries: toSeq - fromSeq + 1 },
    });
    return { tenantId, fromSeq, toSeq, exportedAt };
  }

  /** Entries after afterSeq up to toSeq, in seq order: at most `limit`, and within the page's byte budget. */
  async page(
    request: RpcPayload<typeof AuditEventRpc.exportPage>,
  ): Promise<{ entries: LedgerEntryMessage[] }> {
    const entries = await this.repository.page(
      request.tenantId,
      request.afterSeq,
      request.toSeq,
      request.limit,
      this.pageBytes,
    );
    return { entries };
  }

  /** The export's footer: a signed checkpoint covering toSeq (sealed now if none does yet) and toSeq's inclusion proof. */
  proof(request: RpcPayload<typeof AuditEventRpc.exportProof>): Promise<AuditExportProof> {
    return this.proofs.forExport(request.tenantId, request.toSeq);
  }
}
