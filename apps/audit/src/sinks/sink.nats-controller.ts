import { Controller, Inject } from '@nestjs/common';
import { AuditSinkRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { SinkService } from './sink.service.js';

@Controller()
export class SinkNatsController {
  constructor(@Inject(SinkService) private readonly sinks: SinkService) {}

  @RpcHandler(AuditSinkRpc.create)
  create(request: RpcPayload<typeof AuditSinkRpc.create>) {
    return this.sinks.create(request);
  }

  @RpcHandler(AuditSinkRpc.list)
  list(request: RpcPayload<typeof AuditSinkRpc.list>) {
    return this.sinks.list(request);
  }

  @RpcHandler(AuditSinkRpc.get)
  get(request: RpcPayload<typeof AuditSinkRpc.get>) {
    return this.sinks.get(request);
  }

  @RpcHandler(AuditSinkRpc.update)
  update(request: RpcPayload<typeof AuditSinkRpc.update>) {
    return this.sinks.update(request);
  }

  @RpcHandler(AuditSinkRpc.delete)
  delete(request: RpcPayload<typeof AuditSinkRpc.delete>) {
    return this.sinks.delete(request);
  }

  @RpcHandler(AuditSinkRpc.test)
  test(request: RpcPayload<typeof AuditSinkRpc.test>) {
    return this.sinks.test(request);
  }

  @RpcHandler(AuditSinkRpc.deadLetters)
  deadLetters(request: RpcPayload<typeof AuditSinkRpc.deadLetters>) {
    return this.sinks.deadLetters(request);
  }

  @RpcHandler(AuditSinkRpc.replay)
  replay(request: RpcPayload<typeof AuditSinkRpc.replay>) {
    return this.sinks.replay(request);
  }
}
