import { Controller, Inject } from '@nestjs/common';
import { SsoRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { SsoService } from './sso.service.js';

@Controller()
export class SsoNatsController {
  constructor(@Inject(SsoService) private readonly sso: SsoService) {}

  @RpcHandler(SsoRpc.discover)
  discover(request: RpcPayload<typeof SsoRpc.discover>) {
    return this.sso.discover(request);
  }

  @RpcHandler(SsoRpc.start)
  start(request: RpcPayload<typeof SsoRpc.start>) {
    return this.sso.start(request);
  }

  @RpcHandler(SsoRpc.samlAcs)
  samlAcs(request: RpcPayload<typeof SsoRpc.samlAcs>) {
    return this.sso.samlAcs(request);
  }

  @RpcHandler(SsoRpc.oidcCallback)
  oidcCallback(request: RpcPayload<typeof SsoRpc.oidcCallback>) {
    return this.sso.oidcCallback(request);
  }

  @RpcHandler(SsoRpc.token)
  token(request: RpcPayload<typeof SsoRpc.token>) {
    return this.sso.token(request);
  }
}
