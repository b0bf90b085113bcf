import { Controller, Get, Inject, Param, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AuditEventPageSchema,
  AuditEventRpc,
  ListAuditEventsQuerySchema,
  PLATFORM_TENANT_ID,
  strictObject,
  UuidSchema,
  type ListAuditEventsQuery,
  type Principal,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { Caller, PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { clientInfo } from '../http/client-info.js';

const TenantPath = strictObject({ tenantId: UuidSchema });

/** Who reads, as the gateway saw the request: recorded with the read in the audit log. */
export function readerOf(request: FastifyRequest, caller: Principal) {
  const client = clientInfo(request);
  return {
    ...(client.ip ? { ip: client.ip } : {}),
    ...(client.userAgent ? { userAgent: client.userAgent } : {}),
    ...(caller.sessionId ? { sessionId: caller.sessionId } : {}),
  };
}

/** HTTP edge of the audit service's events: validate, forward over NATS, return. */
@ApiTags('audit')
@Controller('v1/tenants/:tenantId/audit-events')
export class AuditEventController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Permission('audit:read')
  @ApiOperation({
    summary: "Search a tenant's audit events, newest first",
    description:
      'Filters, all optional and combined: `from` ≤ occurredAt < `to`, `category`, `action` (a prefix: `user.` ' +
      'finds user.created, user.updated…), `actorType`, `actorId`, `targetType`, `targetId`, `outcome`, `severity`, ' +
      'and `q`: free text found anywhere in the action or the data (ignoring case; a search that scans too much ' +
      'for 5 s is a 400 `AUDIT_SEARCH_TOO_BROAD`: add a time range). Pages newest first (occurredAt, then id); ' +
      "pass `nextCursor` as `cursor` for the next page. Each event carries its place in the tenant's chain " +
      '(`seq`, `hash`, `prevHash`). Every search is itself recorded in the audit log (`audit.read`, category ' +
      '`audit`) before the page is returned.',
  })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: ListAuditEventsQuerySchema,
    response: AuditEventPageSchema,
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(ListAuditEventsQuerySchema, 'query')) query: ListAuditEventsQuery,
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(AuditEventRpc.list, {
      ...query,
      tenantId: path.tenantId,
      reader: readerOf(request, caller),
    });
  }
}

/**
 * The platform's own audit log (operators' acts, cross-tenant acts, tenants' creation and
 * deletion certificates): the platform tenant's chain, which no tenant route reaches.
 */
@ApiTags('audit')
@Controller('v1/platform/audit-events')
export class PlatformAuditEventController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Permission('audit:read', PLATFORM_ADMINISTRATION)
  @ApiOperation({
    summary: "Search the platform's audit events, newest first (operators)",
    description:
      "The platform's chain: what operators did, tenants created, failed and deleted (the " +
      '`tenant.deletion-certificate` entries), participants bootstrapped and removed. Filters and paging as ' +
      "`GET /v1/tenants/{tenantId}/audit-events`; the read is recorded in the platform's log.",
  })
  @ApiContract({ status: 200, query: ListAuditEventsQuerySchema, response: AuditEventPageSchema })
  list(
    @Query(new ZodPipe(ListAuditEventsQuerySchema, 'query')) query: ListAuditEventsQuery,
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(AuditEventRpc.list, {
      ...query,
      tenantId: PLATFORM_TENANT_ID,
      reader: readerOf(request, caller),
    });
  }
}
