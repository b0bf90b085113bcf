import { Controller, Inject } from '@nestjs/common';
import { AuthSettingsRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { AuthSettingsService } from './auth-settings.service.js';

@Controller()
export class AuthSettingsNatsController {
  constructor(@Inject(AuthSettingsService) private readonly settings: AuthSettingsService) {}

  @RpcHandler(AuthSettingsRpc.get)
  get(request: RpcPayload<typeof AuthSettingsRpc.get>) {
    return this.settings.get(request.tenantId);
  }

  @RpcHandler(AuthSettingsRpc.update)
  update(request: RpcPayload<typeof AuthSettingsRpc.update>) {
    const { tenantId, ...change } = request;
    return this.settings.update(tenantId, change);
  }
}
