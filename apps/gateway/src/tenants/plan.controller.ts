import { Body, Controller, Get, Inject, Param, Patch } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  GetPlanRequestSchema,
  PlanListSchema,
  PlanRpc,
  PlanSchema,
  UpdatePlanBodySchema,
  type Plan,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { z } from 'zod';
import { Authenticated, PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

type PlanRef = z.output<typeof GetPlanRequestSchema>;

/**
 * The plans (free, starter, professional, enterprise, custom): their quotas and features are
 * data. Anyone signed in reads them (what a tenant could move to); operators change them.
 */
@ApiTags('plans')
@Controller('v1/plans')
export class PlanController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Authenticated()
  @ApiOperation({
    summary: 'The plans, with their quotas (null: unlimited), features and roles',
  })
  @ApiContract({ status: 200, response: PlanListSchema })
  list() {
    return this.rpc.request(PlanRpc.list, {});
  }

  @Get(':key')
  @Authenticated()
  @ApiOperation({ summary: 'A plan' })
  @ApiContract({ status: 200, path: GetPlanRequestSchema, response: PlanSchema, problems: [404] })
  get(@Param(new ZodPipe(GetPlanRequestSchema, 'path')) path: PlanRef): Promise<Plan> {
    return this.rpc.request(PlanRpc.get, path);
  }

  @Patch(':key')
  @Permission('plans:write', PLATFORM_ADMINISTRATION)
  @ApiOperation({
    summary: "Change a plan's name, description, quotas or features",
    description:
      '`quotas` lists only the limits to change (a number, or null for unlimited). Every tenant on the plan ' +
      'gets the new limits (its own overrides still win).',
  })
  @ApiContract({
    status: 200,
    path: GetPlanRequestSchema,
    body: UpdatePlanBodySchema,
    response: PlanSchema,
    problems: [404],
  })
  update(
    @Param(new ZodPipe(GetPlanRequestSchema, 'path')) path: PlanRef,
    @Body(new ZodPipe(UpdatePlanBodySchema, 'body')) body: z.output<typeof UpdatePlanBodySchema>,
  ): Promise<Plan> {
    return this.rpc.request(PlanRpc.update, { ...body, ...path });
  }
}
