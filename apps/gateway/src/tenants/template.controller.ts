import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CreateTemplateRequestSchema,
  CreateTenantFromTemplateBodySchema,
  RenderedTemplateSchema,
  TemplateRefSchema,
  TemplateRpc,
  TenantAcceptedSchema,
  TenantTemplateSchema,
  UpdateTemplateBodySchema,
  type TenantAccepted,
  type TenantTemplate,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';

type TemplateRef = z.output<typeof TemplateRefSchema>;
type FromTemplateBody = z.output<typeof CreateTenantFromTemplateBodySchema>;

const TemplateListSchema = z.object({ items: z.array(TenantTemplateSchema) });

/**
 * Tenant templates: a CreateTenantRequest with `{{variable}}` placeholders, rendered with
 * variables and dotted-path overrides; platform administration, for operators.
 */
@ApiTags('tenant-templates')
@Controller('v1/tenant-templates')
export class TemplateController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('tenant-templates:write', PLATFORM_ADMINISTRATION)
  @ApiOperation({
    summary: 'Create a tenant template',
    description:
      '`body` is a tenant creation request (as POST /v1/tenants takes) in which any string may hold ' +
      '`{{variable}}` placeholders; a string that is exactly one placeholder takes the variable’s type ' +
      '(`"{{seats}}"` becomes a number). An invalid template is refused with the path of the error.',
  })
  @ApiContract({
    status: 201,
    body: CreateTemplateRequestSchema,
    response: TenantTemplateSchema,
    problems: [409],
  })
  create(
    @Body(new ZodPipe(CreateTemplateRequestSchema, 'body'))
    body: z.output<typeof CreateTemplateRequestSchema>,
  ): Promise<TenantTemplate> {
    return this.rpc.request(TemplateRpc.create, body);
  }

  @Get()
  @Permission('tenant-templates:read', PLATFORM_ADMINISTRATION)
  @ApiOperation({ summary: 'The tenant templates' })
  @ApiContract({ status: 200, response: TemplateListSchema })
  list() {
    return this.rpc.request(TemplateRpc.list, {});
  }

  @Get(':key')
  @Permission('tenant-templates:read', PLATFORM_ADMINISTRATION)
  @ApiOperation({ summary: 'A tenant template' })
  @ApiContract({
    status: 200,
    path: TemplateRefSchema,
    response: TenantTemplateSchema,
    problems: [404],
  })
  get(@Param(new ZodPipe(TemplateRefSchema, 'path')) path: TemplateRef): Promise<TenantTemplate> {
    return this.rpc.request(TemplateRpc.get, path);
  }

  @Patch(':key')
  @Permission('tenant-templates:write', PLATFORM_ADMINISTRATION)
  @ApiOperation({ summary: 'Change a tenant template (it is validated again)' })
  @ApiContract({
    status: 200,
    path: TemplateRefSchema,
    body: UpdateTemplateBodySchema,
    response: TenantTemplateSchema,
    problems: [404],
  })
  update(
    @Param(new ZodPipe(TemplateRefSchema, 'path')) path: TemplateRef,
    @Body(new ZodPipe(UpdateTemplateBodySchema, 'body'))
    body: z.output<typeof UpdateTemplateBodySchema>,
  ): Promise<TenantTemplate> {
    return this.rpc.request(TemplateRpc.update, { ...body, ...path });
  }

  @Delete(':key')
  @Permission('tenant-templates:write', PLATFORM_ADMINISTRATION)
  @ApiOperation({ summary: 'Delete a tenant template (tenants made from it stay)' })
  @ApiContract({
    status: 200,
    path: TemplateRefSchema,
    response: z.object({ deleted: z.literal(true) }),
    problems: [404],
  })
  delete(@Param(new ZodPipe(TemplateRefSchema, 'path')) path: TemplateRef) {
    return this.rpc.request(TemplateRpc.delete, path);
  }

  @Post(':key/render')
  @HttpCode(200)
  @Permission('tenant-templates:read', PLATFORM_ADMINISTRATION)
  @ApiOperation({
    summary: 'What the template makes of these variables and overrides (no tenant is created)',
  })
  @ApiContract({
    status: 200,
    path: TemplateRefSchema,
    body: CreateTenantFromTemplateBodySchema,
    response: RenderedTemplateSchema,
    problems: [404],
  })
  render(
    @Param(new ZodPipe(TemplateRefSchema, 'path')) path: TemplateRef,
    @Body(new ZodPipe(CreateTenantFromTemplateBodySchema, 'body')) body: FromTemplateBody,
  ) {
    return this.rpc.request(TemplateRpc.render, { ...body, ...path });
  }

  @Post(':key/tenants')
  @HttpCode(202)
  @Permission('tenants:write', PLATFORM_ADMINISTRATION)
  @UseInterceptors(IdempotencyInterceptor)
  @ApiOperation({
    summary: 'Create a tenant from the template: it is provisioned in the background',
    description:
      'Renders the template with `variables` and `overrides` (dotted paths such as `settings.mfaRequired`), ' +
      'then creates the tenant as POST /v1/tenants does (202 with the tenant in `provisioning` and its run).',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retry-safe creation: a retry with the same key and body replays the first response (24 h)',
  })
  @ApiContract({
    status: 202,
    path: TemplateRefSchema,
    body: CreateTenantFromTemplateBodySchema,
    response: TenantAcceptedSchema,
    problems: [404, 409],
  })
  instantiate(
    @Param(new ZodPipe(TemplateRefSchema, 'path')) path: TemplateRef,
    @Body(new ZodPipe(CreateTenantFromTemplateBodySchema, 'body')) body: FromTemplateBody,
  ): Promise<TenantAccepted> {
    return this.rpc.request(TemplateRpc.instantiate, { ...body, ...path });
  }
}
