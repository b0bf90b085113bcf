import { Controller, Inject } from '@nestjs/common';
import { PolicyDecisionRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { DecisionService } from './decision.service.js';

@Controller()
export class DecisionNatsController {
  constructor(@Inject(DecisionService) private readonly decisions: DecisionService) {}

  @RpcHandler(PolicyDecisionRpc.decide)
  decide(request: RpcPayload<typeof PolicyDecisionRpc.decide>) {
    return this.decisions.decide(request);
  }

  @RpcHandler(PolicyDecisionRpc.decideBatch)
  decideBatch(request: RpcPayload<typeof PolicyDecisionRpc.decideBatch>) {
    return this.decisions.decideBatch(request);
  }

  @RpcHandler(PolicyDecisionRpc.explain)
  explain(request: RpcPayload<typeof PolicyDecisionRpc.explain>) {
    return this.decisions.explain(request);
  }
}
