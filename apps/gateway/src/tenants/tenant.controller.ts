import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Ip,
  Param,
  Patch,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ChangePlanBodySchema,
  CreateTenantRequestSchema,
  DeprovisionTenantBodySchema,
  GetTenantRequestSchema,
  ListTenantsRequestSchema,
  SuspendTenantBodySchema,
  TenantAcceptedSchema,
  TenantPageSchema,
  TenantRpc,
  TenantSchema,
  UpdateTenantBodySchema,
  type CreateTenantRequest,
  type Principal,
  type RpcPayload,
  type Tenant,
  type TenantAccepted,
  type TenantPage,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { z } from 'zod';
import { Caller, PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';
import { IpAllowList } from '../tenant-access/ip-allow-list.js';
import { TenantsApiErrors } from './tenants-api.errors.js';

type TenantRef = z.output<typeof GetTenantRequestSchema>;
type UpdateTenantBody = z.output<typeof UpdateTenantBodySchema>;

/**
 * The fields of `PATCH /v1/tenants/{id}` that are platform administration: the tenant's limits
 * and trial are what it pays for, so only operators change them. A tenant's admins (and API
 * keys with `tenants:write`) change its name and settings.
 */
export const PLATFORM_ONLY_TENANT_FIELDS = [
  'limitOverrides',
  'clearOverrides',
  'trialEndsAt',
] as const;

/**
 * What `caller` may send in a tenant PATCH: an operator anything; a principal of the tenant
 * (the guard saw to it that it is its own) its name and settings only, refused with a 403
 * naming every platform-only field it sent, and never an IP allow list that leaves out the
 * address it calls from (it would lock itself out); a platform API key nothing (platform
 * administration is for operators).
 */
export function checkTenantUpdate(caller: Principal, ip: string, body: UpdateTenantBody): void {
  if (caller.kind === 'operator') return;
  if (caller.tenantId === null) throw TenantsApiErrors.platformKeyRefused();
  const refused = PLATFORM_ONLY_TENANT_FIELDS.filter((field) => body[field] !== undefined);
  if (refused.length) throw TenantsApiErrors.platformOnlyFields(refused);
  const allowList = body.settings?.ipAllowList;
  if (allowList?.length && !new IpAllowList(allowList).allows(ip))
    throw TenantsApiErrors.ipAllowListExcludesCaller(ip);
}

const TENANT_PROBLEMS = [404, 409];

/** HTTP edge of the tenants service's tenant feature: validate, forward over NATS, return. */
@ApiTags('tenants')
@Controller('v1/tenants')
export class TenantController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(202)
  @Permission('tenants:write', PLATFORM_ADMINISTRATION)
  @UseInterceptors(IdempotencyInterceptor)
  @ApiOperation({
    summary: 'Create a tenant: it is provisioned in the background',
    description:
      'Answers 202 at once with the tenant in `provisioning` and the id of its provisioning run; ' +
      'the pipeline (validate, storage, identity with the first admin’s invitation, policy, audit, verify) ' +
      'then brings it to `active`, or leaves it `failed` with the step and reason, everything it made undone. ' +
      'Follow it with GET /v1/tenants/{id}/provisioning.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retry-safe creation: a retry with the same key and body replays the first response (24 h)',
  })
  @ApiContract({
    status: 202,
    body: CreateTenantRequestSchema,
    response: TenantAcceptedSchema,
    problems: [409],
  })
  create(
    @Body(new ZodPipe(CreateTenantRequestSchema, 'body')) body: CreateTenantRequest,
  ): Promise<TenantAccepted> {
    return this.rpc.request(TenantRpc.create, body);
  }

  @Get()
  @Permission('tenants:read')
  @ApiOperation({
    summary: 'List tenants, oldest first',
    description:
      'Operators and platform API keys see every tenant; a user or API key of a tenant a page with only its own.',
  })
  @ApiContract({ status: 200, query: ListTenantsRequestSchema, response: TenantPageSchema })
  async list(
    @Caller() caller: Principal,
    @Query(new ZodPipe(ListTenantsRequestSchema, 'query'))
    query: RpcPayload<typeof TenantRpc.list>,
  ): Promise<TenantPage> {
    if (caller.tenantId === null) return this.rpc.request(TenantRpc.list, query);
    // Its own tenant is the whole list: one page, and nothing after any cursor.
    if (query.cursor) return { items: [], nextCursor: null };
    const own = await this.rpc.request(TenantRpc.get, { id: caller.tenantId });
    const matches =
      (!query.status || own.status === query.status) &&
      (!query.plan || own.plan === query.plan) &&
      (!query.region || own.region === query.region) &&
      (!query.q ||
        own.name.toLowerCase().includes(query.q.toLowerCase()) ||
        own.slug.includes(query.q.toLowerCase()));
    return { items: matches ? [own] : [], nextCursor: null };
  }

  @Get(':id')
  @Permission('tenants:read', { tenantParam: 'id' })
  @ApiOperation({ summary: 'Get a tenant' })
  @ApiContract({
    status: 200,
    path: GetTenantRequestSchema,
    response: TenantSchema,
    problems: [404],
  })
  get(@Param(new ZodPipe(GetTenantRequestSchema, 'path')) params: TenantRef): Promise<Tenant> {
    return this.rpc.request(TenantRpc.get, params);
  }

  @Patch(':id')
  @Permission('tenants:write', { tenantParam: 'id' })
  @ApiOperation({
    summary: "Change a tenant's name, settings, limits or trial",
    description:
      'A tenant’s admins (and its API keys with `tenants:write`) change its `name` and `settings` ' +
      '(settings are merged: send only the keys to change); `limitOverrides`, `clearOverrides` and ' +
      '`trialEndsAt` are platform administration, for operators: from anyone else a 403 ' +
      '`TENANT_FIELD_PLATFORM_ONLY` naming them. A tenant’s principal cannot set an ' +
      '`ipAllowList` that leaves out the address it calls from (400 `TENANT_IP_ALLOW_LIST_EXCLUDES_CALLER`). ' +
      'Every service is told the new settings and limits.',
  })
  @ApiContract({
    status: 200,
    path: GetTenantRequestSchema,
    body: UpdateTenantBodySchema,
    response: TenantSchema,
    problems: TENANT_PROBLEMS,
  })
  update(
    @Caller() caller: Principal,
    @Ip() ip: string,
    @Param(new ZodPipe(GetTenantRequestSchema, 'path')) params: TenantRef,
    @Body(new ZodPipe(UpdateTenantBodySchema, 'body')) body: UpdateTenantBody,
  ): Promise<Tenant> {
    checkTenantUpdate(caller, ip, body);
    return this.rpc.request(TenantRpc.update, { ...body, id: params.id });
  }

  @Post(':id/plan')
  @HttpCode(200)
  @Permission('tenants:write', { ...PLATFORM_ADMINISTRATION, tenantParam: 'id' })
  @ApiOperation({
    summary: "Change a tenant's plan, now or at the end of the period",
    description:
      '`when: now` is refused (reason `TENANT_PLAN_DOWNGRADE_REFUSED`) while the ' +
      'tenant uses more of something than the new plan allows, naming the limit, the usage and the new ' +
      'limit; `when: period-end` stores it as `pendingPlanChange`, applied at `effectiveAt` ' +
      '(default: the first day of next month, UTC).',
  })
  @ApiContract({
    status: 200,
    path: GetTenantRequestSchema,
    body: ChangePlanBodySchema,
    response: TenantSchema,
    problems: TENANT_PROBLEMS,
  })
  changePlan(
    @Param(new ZodPipe(GetTenantRequestSchema, 'path')) params: TenantRef,
    @Body(new ZodPipe(ChangePlanBodySchema, 'body')) body: z.output<typeof ChangePlanBodySchema>,
  ): Promise<Tenant> {
    return this.rpc.request(TenantRpc.changePlan, { ...body, id: params.id });
  }

  @Post(':id/suspend')
  @HttpCode(200)
  @Permission('tenants:write', { ...PLATFORM_ADMINISTRATION, tenantParam: 'id' })
  @ApiOperation({
    summary: 'Suspend a tenant: its users and API keys are refused, its sessions end',
    description:
      'From then on the gateway answers every request of the tenant’s users and API keys with a 403 ' +
      '`TENANT_SUSPENDED` giving the reason; operators are not affected. Undo with POST .../reactivate.',
  })
  @ApiContract({
    status: 200,
    path: GetTenantRequestSchema,
    body: SuspendTenantBodySchema,
    response: TenantSchema,
    problems: TENANT_PROBLEMS,
  })
  suspend(
    @Param(new ZodPipe(GetTenantRequestSchema, 'path')) params: TenantRef,
    @Body(new ZodPipe(SuspendTenantBodySchema, 'body'))
    body: z.output<typeof SuspendTenantBodySchema>,
  ): Promise<Tenant> {
    return this.rpc.request(TenantRpc.suspend, { ...body, id: params.id });
  }

  @Post(':id/reactivate')
  @HttpCode(200)
  @Permission('tenants:write', { ...PLATFORM_ADMINISTRATION, tenantParam: 'id' })
  @ApiOperation({
    summary: 'Reactivate a suspended tenant: its users and API keys are admitted again',
  })
  @ApiContract({
    status: 200,
    path: GetTenantRequestSchema,
    response: TenantSchema,
    problems: TENANT_PROBLEMS,
  })
  reactivate(
    @Param(new ZodPipe(GetTenantRequestSchema, 'path')) params: TenantRef,
  ): Promise<Tenant> {
    return this.rpc.request(TenantRpc.reactivate, params);
  }

  @Post(':id/deprovision')
  @HttpCode(202)
  @Permission('tenants:write', { ...PLATFORM_ADMINISTRATION, tenantParam: 'id' })
  @ApiOperation({
    summary: 'Delete a tenant after a grace period (cancellable until then)',
    description:
      'The tenant becomes `deprovisioning` at once (its users and API keys are refused with 403 ' +
      '`TENANT_UNAVAILABLE`) and `deleteAfter` says when the deletion runs: its data is exported, deleted ' +
      'in every service, and a deletion certificate is written to the platform’s audit log. ' +
      'DELETE /v1/tenants/{id}/deprovision cancels it within the grace period.',
  })
  @ApiContract({
    status: 202,
    path: GetTenantRequestSchema,
    body: DeprovisionTenantBodySchema,
    response: TenantSchema,
    problems: TENANT_PROBLEMS,
  })
  deprovision(
    @Param(new ZodPipe(GetTenantRequestSchema, 'path')) params: TenantRef,
    @Body(new ZodPipe(DeprovisionTenantBodySchema, 'body'))
    body: z.output<typeof DeprovisionTenantBodySchema>,
  ): Promise<Tenant> {
    return this.rpc.request(TenantRpc.deprovision, { ...body, id: params.id });
  }

  @Delete(':id/deprovision')
  @Permission('tenants:write', { ...PLATFORM_ADMINISTRATION, tenantParam: 'id' })
  @ApiOperation({
    summary: "Cancel a tenant's scheduled deletion (within the grace period)",
    description:
      'The tenant goes back to the status it had before the deletion was scheduled; once the deletion has started it is a 409.',
  })
  @ApiContract({
    status: 200,
    path: GetTenantRequestSchema,
    response: TenantSchema,
    problems: TENANT_PROBLEMS,
  })
  cancelDeprovision(
    @Param(new ZodPipe(GetTenantRequestSchema, 'path')) params: TenantRef,
  ): Promise<Tenant> {
    return this.rpc.request(TenantRpc.cancelDeprovision, params);
  }
}
