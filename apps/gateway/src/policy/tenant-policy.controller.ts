import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { strictObject, TenantPolicyRpc, TenantPolicySchema, UuidSchema } from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });

/** The tenant's whole policy document, as the policy service publishes it. */
@ApiTags('policies')
@Controller('v1/tenants/:tenantId/policy')
export class TenantPolicyController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Permission('policies:read')
  @ApiOperation({
    summary: "The tenant's whole current policy document, its version and the published version",
  })
  @ApiContract({ status: 200, path: TenantPath, response: TenantPolicySchema, problems: [404] })
  get(@Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>) {
    return this.rpc.request(TenantPolicyRpc.get, path);
  }
}
