import { Controller, Inject } from '@nestjs/common';
import { SigningKeyRpc } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { SigningKeyService } from './signing-key.service.js';

@Controller()
export class SigningKeyNatsController {
  constructor(@Inject(SigningKeyService) private readonly keys: SigningKeyService) {}

  @RpcHandler(SigningKeyRpc.jwks)
  jwks() {
    return this.keys.jwks();
  }

  @RpcHandler(SigningKeyRpc.rotate)
  rotate() {
    return this.keys.rotate();
  }
}
