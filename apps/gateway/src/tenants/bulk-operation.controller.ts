import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AppError,
  BulkCreateTenantsRequestSchema,
  BulkCreateUsersBodySchema,
  BulkOperationRpc,
  BulkOperationSchema,
  ErrorCode,
  GetBulkOperationRequestSchema,
  MAX_BULK_ITEMS,
  strictObject,
  UuidSchema,
  type BulkOperation,
  type Principal,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { z } from 'zod';
import { Caller, PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';
import { TenantsApiErrors } from './tenants-api.errors.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
type BulkRef = z.output<typeof GetBulkOperationRequestSchema>;

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description:
    'Retry-safe: a retry with the same key and body replays the first response (24 h) instead of starting another operation',
} as const;

/**
 * The bulk operation as `caller` may see it: a principal of a tenant only its own tenant's
 * (users into it); anything else, and one that does not exist, the same 404.
 */
export function visibleBulkOperation(caller: Principal, operation: BulkOperation): BulkOperation {
  if (caller.tenantId === null) return operation;
  if (operation.tenantId?.toLowerCase() !== caller.tenantId.toLowerCase())
    throw TenantsApiErrors.bulkOperationNotFound(operation.id);
  return operation;
}

/** Many tenants, or many users of a tenant, in one request: a tracked operation with progress. */
@ApiTags('bulk-operations')
@Controller('v1')
export class BulkOperationController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post('bulk-operations/tenants')
  @HttpCode(202)
  @Permission('tenants:write', PLATFORM_ADMINISTRATION)
  @UseInterceptors(IdempotencyInterceptor)
  @ApiOperation({
    summary: `Create up to ${MAX_BULK_ITEMS} tenants in one operation`,
    description:
      'Answers 202 with the operation; each tenant is then created (and provisioned) as POST /v1/tenants ' +
      'does, and the operation records each item’s result. Follow it with GET /v1/bulk-operations/{id}.',
  })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiContract({
    status: 202,
    body: BulkCreateTenantsRequestSchema,
    response: BulkOperationSchema,
  })
  createTenants(
    @Body(new ZodPipe(BulkCreateTenantsRequestSchema, 'body'))
    body: z.output<typeof BulkCreateTenantsRequestSchema>,
  ): Promise<BulkOperation> {
    return this.rpc.request(BulkOperationRpc.createTenants, body);
  }

  @Post('tenants/:tenantId/users/bulk')
  @HttpCode(202)
  @Permission('users:write')
  @UseInterceptors(IdempotencyInterceptor)
  @ApiOperation({
    summary: `Invite or create up to ${MAX_BULK_ITEMS} users of the tenant in one operation`,
    description:
      'Answers 202 with the operation; each user is then created as POST /v1/tenants/{tenantId}/users does ' +
      '(the plan’s `users` limit applies: the items past it fail with QUOTA_EXCEEDED). Follow it with ' +
      'GET /v1/bulk-operations/{id}.',
  })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiContract({
    status: 202,
    path: TenantPath,
    body: BulkCreateUsersBodySchema,
    response: BulkOperationSchema,
  })
  createUsers(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(BulkCreateUsersBodySchema, 'body'))
    body: z.output<typeof BulkCreateUsersBodySchema>,
  ): Promise<BulkOperation> {
    return this.rpc.request(BulkOperationRpc.createUsers, { ...body, tenantId: path.tenantId });
  }

  @Get('bulk-operations/:id')
  @Permission('bulk-operations:read')
  @ApiOperation({
    summary: 'A bulk operation: its status, progress and every item’s result',
    description:
      'A principal of a tenant sees its own tenant’s operations only; another’s is a 404, as one that does not exist.',
  })
  @ApiContract({
    status: 200,
    path: GetBulkOperationRequestSchema,
    response: BulkOperationSchema,
    problems: [404],
  })
  async get(
    @Caller() caller: Principal,
    @Param(new ZodPipe(GetBulkOperationRequestSchema, 'path')) path: BulkRef,
  ): Promise<BulkOperation> {
    let operation: BulkOperation;
    try {
      operation = await this.rpc.request(BulkOperationRpc.get, path);
    } catch (error) {
      // One 404 for "none" and "another tenant's", whatever the service says.
      if (error instanceof AppError && error.code === ErrorCode.NotFound)
        throw TenantsApiErrors.bulkOperationNotFound(path.id);
      throw error;
    }
    return visibleBulkOperation(caller, operation);
  }
}
