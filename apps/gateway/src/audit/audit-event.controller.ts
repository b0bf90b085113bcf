import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AuditEventPageSchema,
  AuditEventRpc,
  PageQuerySchema,
  strictObject,
  UuidSchema,
  type PageQuery,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });

/** HTTP edge of the audit service's events: validate, forward over NATS, return. */
@ApiTags('audit')
@Controller('v1/tenants/:tenantId/audit-events')
export class AuditEventController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Permission('audit:read')
  @ApiOperation({ summary: "A tenant's audit events, newest first" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: AuditEventPageSchema,
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(AuditEventRpc.list, { ...query, tenantId: path.tenantId });
  }
}
