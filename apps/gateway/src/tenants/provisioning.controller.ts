import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  GetTenantRequestSchema,
  ProvisioningRpc,
  ProvisioningRunListSchema,
  ProvisioningRunSchema,
  type ProvisioningRun,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { z } from 'zod';
import { PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

type TenantRef = z.output<typeof GetTenantRequestSchema>;

/** A tenant's provisioning and lifecycle runs: each step's state, attempts and timings. */
@ApiTags('tenants')
@Controller('v1/tenants/:id/provisioning')
export class ProvisioningController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Permission('tenants:read', { tenantParam: 'id' })
  @ApiOperation({
    summary: "The tenant's latest run, step by step",
    description:
      'Each step (validate, allocate-storage, identity-bootstrap, policy-bootstrap, audit-genesis, verify, ' +
      'activate; export, remove, certificate for a deletion) with its status, attempts, timings, last error ' +
      'and output. Progress is also published as `evt.tenants.provisioning.progress` events.',
  })
  @ApiContract({
    status: 200,
    path: GetTenantRequestSchema,
    response: ProvisioningRunSchema,
    problems: [404],
  })
  get(
    @Param(new ZodPipe(GetTenantRequestSchema, 'path')) path: TenantRef,
  ): Promise<ProvisioningRun> {
    return this.rpc.request(ProvisioningRpc.get, { tenantId: path.id });
  }

  @Get('runs')
  @Permission('tenants:read', { tenantParam: 'id' })
  @ApiOperation({ summary: "Every run of the tenant's, newest first" })
  @ApiContract({
    status: 200,
    path: GetTenantRequestSchema,
    response: ProvisioningRunListSchema,
    problems: [404],
  })
  list(@Param(new ZodPipe(GetTenantRequestSchema, 'path')) path: TenantRef) {
    return this.rpc.request(ProvisioningRpc.list, { tenantId: path.id });
  }

  @Post('retry')
  @HttpCode(202)
  @Permission('tenants:write', { ...PLATFORM_ADMINISTRATION, tenantParam: 'id' })
  @ApiOperation({
    summary: 'Run a failed provisioning or deletion again',
    description:
      'Starts a new run of the kind that failed (202: it runs in the background): provisioning for a `failed` tenant, ' +
      'the deletion for a `deprovisioning` tenant whose deletion run failed (at once, without a new grace period). ' +
      'Anything else is a 409.',
  })
  @ApiContract({
    status: 202,
    path: GetTenantRequestSchema,
    response: ProvisioningRunSchema,
    problems: [404, 409],
  })
  retry(
    @Param(new ZodPipe(GetTenantRequestSchema, 'path')) path: TenantRef,
  ): Promise<ProvisioningRun> {
    return this.rpc.request(ProvisioningRpc.retry, { tenantId: path.id });
  }
}
