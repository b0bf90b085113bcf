import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { JwksSchema, SigningKeyRpc } from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { Public } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';

/** The public keys access tokens are signed with (RFC 7517), for anyone who verifies them. */
@ApiTags('auth')
@Controller('.well-known')
export class JwksController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get('jwks.json')
  @Public()
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'The JWKS: public keys of the access tokens (Ed25519, EdDSA)',
    description: 'A retired key stays listed until every token it signed has expired.',
  })
  @ApiContract({ status: 200, response: JwksSchema })
  jwks() {
    return this.rpc.request(SigningKeyRpc.jwks, {});
  }
}
