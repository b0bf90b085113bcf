import { Controller, Inject } from '@nestjs/common';
import { MfaRpc, PasskeyRpc, type RpcPayload } from '@tenantry/contracts';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { RpcHandler } from '@tenantry/messaging';
import { MfaService } from './mfa.service.js';
import { PasskeyService } from './passkey.service.js';

@Controller()
export class MfaNatsController {
  constructor(
    @Inject(MfaService) private readonly mfa: MfaService,
    @Inject(PasskeyService) private readonly passkeys: PasskeyService,
  ) {}

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

  @RpcHandler(PasskeyRpc.registrationOptions)
  passkeyOptions(request: RpcPayload<typeof PasskeyRpc.registrationOptions>) {
    return this.passkeys.registrationOptions(request.tenantId, request.userId);
  }

  @RpcHandler(PasskeyRpc.add)
  addPasskey(request: RpcPayload<typeof PasskeyRpc.add>) {
    return this.passkeys.add(
      request.tenantId,
      request.userId,
      request.name,
      request.credential as RegistrationResponseJSON,
    );
  }

  @RpcHandler(PasskeyRpc.list)
  async listPasskeys(request: RpcPayload<typeof PasskeyRpc.list>) {
    return { passkeys: await this.passkeys.list(request.tenantId, request.userId) };
  }

  @RpcHandler(PasskeyRpc.remove)
  async removePasskey(request: RpcPayload<typeof PasskeyRpc.remove>) {
    await this.passkeys.remove(request.tenantId, request.userId, request.passkeyId);
    return { removed: true as const };
  }
}
