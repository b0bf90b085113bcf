import { Controller, Inject } from '@nestjs/common';
import { AuditLedgerRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { LedgerService } from './ledger.service.js';

/** The ledger's evidence over NATS: keys, checkpoints, proofs, verify. */
@Controller()
export class LedgerNatsController {
  constructor(@Inject(LedgerService) private readonly ledger: LedgerService) {}

  @RpcHandler(AuditLedgerRpc.keys)
  keys() {
    return this.ledger.publishedKeys();
  }

  @RpcHandler(AuditLedgerRpc.checkpoints)
  checkpoints(request: RpcPayload<typeof AuditLedgerRpc.checkpoints>) {
    return this.ledger.checkpoints(request);
  }

  @RpcHandler(AuditLedgerRpc.inclusionProof)
  inclusionProof(request: RpcPayload<typeof AuditLedgerRpc.inclusionProof>) {
    return this.ledger.inclusionProof(request);
  }

  @RpcHandler(AuditLedgerRpc.consistencyProof)
  consistencyProof(request: RpcPayload<typeof AuditLedgerRpc.consistencyProof>) {
    return this.ledger.consistencyProof(request);
  }

  @RpcHandler(AuditLedgerRpc.verify)
  verify(request: RpcPayload<typeof AuditLedgerRpc.verify>) {
    return this.ledger.verify(request);
  }
}
