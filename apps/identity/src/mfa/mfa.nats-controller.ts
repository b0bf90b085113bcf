import { Controller, Inject } from '@nestjs/common';
import { MfaRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { MfaService } from './mfa.service.js';

@Controller()
export class MfaNatsController {
  constructor(@Inject(MfaService) private readonly mfa: MfaService) {}

  @RpcHandler(MfaRpc.enrolTotp)
  enrolTotp(request: RpcPayload<typeof MfaRpc.enrolTotp>) {
    return this.mfa.enrol(request.tenantId, request.userId);
  }

  @RpcHandler(MfaRpc.confirmTotp)
  async confirmTotp(request: RpcPayload<typeof MfaRpc.confirmTotp>) {
    return {
      recoveryCodes: await this.mfa.confirm(request.tenantId, request.userId, request.code),
    };
  }

  @RpcHandler(MfaRpc.disableTotp)
  async disableTotp(request: RpcPayload<typeof MfaRpc.disableTotp>) {
    await this.mfa.disable(request.tenantId, request.userId, request.code);
    return { disabled: true as const };
  }
}
