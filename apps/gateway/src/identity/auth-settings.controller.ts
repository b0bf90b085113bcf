import { Body, Controller, Get, Inject, Param, Patch } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AuthSettingsRpc,
  AuthSettingsSchema,
  PLATFORM_TENANT_ID,
  strictObject,
  UpdateAuthSettingsBodySchema,
  UuidSchema,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { z } from 'zod';
import { PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
type UpdateBody = z.output<typeof UpdateAuthSettingsBodySchema>;

/** Authentication rules (passwords, lockout, MFA, token lifetimes): a tenant's, and the platform's own. */
@ApiTags('auth-settings')
@Controller('v1')
export class AuthSettingsController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get('tenants/:tenantId/auth-settings')
  @Permission('auth-settings:read')
  @ApiOperation({ summary: "A tenant's authentication rules" })
  @ApiContract({ status: 200, path: TenantPath, response: AuthSettingsSchema })
  get(@Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>) {
    return this.rpc.request(AuthSettingsRpc.get, { tenantId: path.tenantId });
  }

  @Patch('tenants/:tenantId/auth-settings')
  @Permission('auth-settings:write')
  @ApiOperation({ summary: "Change a tenant's authentication rules (only the fields sent)" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    body: UpdateAuthSettingsBodySchema,
    response: AuthSettingsSchema,
  })
  update(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(UpdateAuthSettingsBodySchema, 'body')) body: UpdateBody,
  ) {
    return this.rpc.request(AuthSettingsRpc.update, { ...body, tenantId: path.tenantId });
  }

  @Get('platform/auth-settings')
  @Permission('auth-settings:read', PLATFORM_ADMINISTRATION)
  @ApiTags('platform')
  @ApiOperation({ summary: "The platform's authentication rules (for operators)" })
  @ApiContract({ status: 200, response: AuthSettingsSchema })
  getPlatform() {
    return this.rpc.request(AuthSettingsRpc.get, { tenantId: PLATFORM_TENANT_ID });
  }

  @Patch('platform/auth-settings')
  @Permission('auth-settings:write', PLATFORM_ADMINISTRATION)
  @ApiTags('platform')
  @ApiOperation({ summary: "Change the platform's authentication rules (only the fields sent)" })
  @ApiContract({ status: 200, body: UpdateAuthSettingsBodySchema, response: AuthSettingsSchema })
  updatePlatform(@Body(new ZodPipe(UpdateAuthSettingsBodySchema, 'body')) body: UpdateBody) {
    return this.rpc.request(AuthSettingsRpc.update, { ...body, tenantId: PLATFORM_TENANT_ID });
  }
}
