import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CreateDomainBodySchema,
  DomainPageSchema,
  DomainRpc,
  DomainSchema,
  PageQuerySchema,
  strictObject,
  UuidSchema,
  type PageQuery,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const DomainPath = strictObject({ tenantId: UuidSchema, domainId: UuidSchema });
const DeletedSchema = z.object({ deleted: z.literal(true) });
type CreateBody = z.output<typeof CreateDomainBodySchema>;

/**
 * A tenant's email domains: claimed, then verified with a DNS TXT record. A verified
 * domain sends its users' sign-ins to the tenant's SSO; one tenant at a time holds it.
 */
@ApiTags('domains')
@Controller('v1/tenants/:tenantId/domains')
export class DomainController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('domains:write')
  @ApiOperation({
    summary: 'Claim an email domain (pending until verified)',
    description:
      'The answer names the TXT record to create at the domain’s DNS provider; then verify. ' +
      'Public email providers (gmail.com, outlook.com, …) cannot be claimed.',
  })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateDomainBodySchema,
    response: DomainSchema,
    problems: [409],
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreateDomainBodySchema, 'body')) body: CreateBody,
  ) {
    return this.rpc.request(DomainRpc.create, { ...body, tenantId: path.tenantId });
  }

  @Get()
  @Permission('domains:read')
  @ApiOperation({ summary: "The tenant's email domains, newest first" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: DomainPageSchema,
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(DomainRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':domainId')
  @Permission('domains:read')
  @ApiOperation({ summary: 'Get an email domain and its verification record' })
  @ApiContract({ status: 200, path: DomainPath, response: DomainSchema, problems: [404] })
  get(@Param(new ZodPipe(DomainPath, 'path')) path: z.output<typeof DomainPath>) {
    return this.rpc.request(DomainRpc.get, path);
  }

  @Post(':domainId/verify')
  @HttpCode(200)
  @Permission('domains:write')
  @ApiOperation({
    summary: 'Verify a domain: looks its TXT record up now',
    description:
      'The domain, verified; 409 DOMAIN_VERIFICATION_FAILED saying which record was expected ' +
      'and what DNS answered, 409 DOMAIN_VERIFIED_ELSEWHERE when another tenant holds it, ' +
      '503 DOMAIN_DNS_UNAVAILABLE when DNS could not be asked.',
  })
  @ApiContract({
    status: 200,
    path: DomainPath,
    response: DomainSchema,
    problems: [404, 409, 503],
  })
  verify(@Param(new ZodPipe(DomainPath, 'path')) path: z.output<typeof DomainPath>) {
    // DNS may take a few seconds (two tries per server).
    return this.rpc.request(DomainRpc.verify, path, { timeoutMs: 20_000 });
  }

  @Delete(':domainId')
  @Permission('domains:write')
  @ApiOperation({ summary: 'Remove a domain (a verified one becomes free for other tenants)' })
  @ApiContract({ status: 200, path: DomainPath, response: DeletedSchema, problems: [404] })
  delete(@Param(new ZodPipe(DomainPath, 'path')) path: z.output<typeof DomainPath>) {
    return this.rpc.request(DomainRpc.delete, path);
  }
}
