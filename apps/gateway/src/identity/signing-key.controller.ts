import { Controller, HttpCode, Inject, Logger, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { SigningKeyRpc } from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { SigningKeys } from '../auth/signing-keys.js';
import { ApiContract } from '../http/api-docs.decorators.js';

/** The keys access tokens are signed with, for operators. */
@ApiTags('platform')
@Controller('v1/platform/signing-keys')
export class SigningKeyController {
  private readonly logger = new Logger('SigningKeys');

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(SigningKeys) private readonly keys: SigningKeys,
  ) {}

  @Post('rotate')
  @HttpCode(200)
  @Permission('signing-keys:write', PLATFORM_ADMINISTRATION)
  @ApiOperation({
    summary: 'Sign with a new key from now on',
    description: 'The old key stays in the JWKS until every token it signed has expired.',
  })
  @ApiContract({ status: 200, response: z.object({ kid: z.string() }) })
  async rotate() {
    const rotated = await this.rpc.request(SigningKeyRpc.rotate, {});
    // This instance knows the new key at once; the others on the rotation event.
    await this.keys
      .refresh()
      .catch((error: Error) => this.logger.warn(`JWKS refresh failed: ${error.message}`));
    return rotated;
  }
}
