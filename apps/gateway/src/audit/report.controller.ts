import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import {
  AccessReviewReportSchema,
  AUDIT_REPORT_MAX_DAYS,
  AUDIT_REPORT_TIMEOUT_MS,
  AuditReportRpc,
  ConfigurationChangesReportSchema,
  ReportPeriodQuerySchema,
  strictObject,
  SubjectAccessQuerySchema,
  SubjectAccessReportSchema,
  UuidSchema,
  type AuditReader,
  type Principal,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { Caller, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { clientInfo } from '../http/client-info.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
type TenantRef = z.output<typeof TenantPath>;
type PeriodQuery = z.output<typeof ReportPeriodQuerySchema>;

const PERIOD_HELP =
  `\`from\` (inclusive) and \`to\` (exclusive) are ISO 8601 date-times on the events' occurredAt, ` +
  `at most ${AUDIT_REPORT_MAX_DAYS} days apart. \`format=html\` answers a self-contained, printable ` +
  'document (text/html) to hand to an auditor, with the ledger checkpoint the report ties to and how ' +
  'to verify it; the default is JSON. A section whose source service did not answer is listed under ' +
  '`missingSections`, never left out silently. Each report is recorded in the audit log ' +
  '(`audit.report.generated`).';

/** The reply as HTTP: the JSON report, or the HTML document with headers that keep it inert. */
function answer(
  reply: FastifyReply,
  result: { format: 'json'; report: unknown } | { format: 'html'; html: string },
): unknown {
  reply.header('Cache-Control', 'no-store');
  if (result.format === 'json') return result.report;
  reply
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
    .header('X-Content-Type-Options', 'nosniff');
  return result.html;
}

/** Who asked, as this gateway saw them: recorded in the report's audit event. */
function readerOf(request: FastifyRequest, caller: Principal): AuditReader {
  const client = clientInfo(request);
  return {
    ip: client.ip,
    ...(client.userAgent ? { userAgent: client.userAgent } : {}),
    ...(caller.sessionId ? { sessionId: caller.sessionId } : {}),
  };
}

/** Compliance reports over a tenant's audit ledger, for auditors (permission audit:read). */
@ApiTags('audit')
@Controller('v1/tenants/:tenantId/audit/reports')
export class ReportController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get('access-review')
  @Permission('audit:read')
  @ApiOperation({
    summary:
      'SOC 2 access review: who holds which roles, who used them, failed sign-ins, privilege changes',
    description: PERIOD_HELP,
  })
  @ApiProduces('application/json', 'text/html')
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: ReportPeriodQuerySchema,
    response: AccessReviewReportSchema,
    problems: [413],
  })
  async accessReview(
    @Param(new ZodPipe(TenantPath, 'path')) path: TenantRef,
    @Query(new ZodPipe(ReportPeriodQuerySchema, 'query')) query: PeriodQuery,
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.rpc.request(
      AuditReportRpc.accessReview,
      { ...query, tenantId: path.tenantId, reader: readerOf(request, caller) },
      { timeoutMs: AUDIT_REPORT_TIMEOUT_MS },
    );
    return answer(reply, result);
  }

  @Get('subject-access')
  @Permission('audit:read')
  @ApiOperation({
    summary: 'GDPR subject access: everything about one user (userId) in the period',
    description: PERIOD_HELP,
  })
  @ApiProduces('application/json', 'text/html')
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: SubjectAccessQuerySchema,
    response: SubjectAccessReportSchema,
    problems: [413],
  })
  async subjectAccess(
    @Param(new ZodPipe(TenantPath, 'path')) path: TenantRef,
    @Query(new ZodPipe(SubjectAccessQuerySchema, 'query'))
    query: z.output<typeof SubjectAccessQuerySchema>,
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.rpc.request(
      AuditReportRpc.subjectAccess,
      { ...query, tenantId: path.tenantId, reader: readerOf(request, caller) },
      { timeoutMs: AUDIT_REPORT_TIMEOUT_MS },
    );
    return answer(reply, result);
  }

  @Get('configuration-changes')
  @Permission('audit:read')
  @ApiOperation({
    summary: "Every change to the tenant's configuration in the period, with before and after",
    description: PERIOD_HELP,
  })
  @ApiProduces('application/json', 'text/html')
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: ReportPeriodQuerySchema,
    response: ConfigurationChangesReportSchema,
    problems: [413],
  })
  async configurationChanges(
    @Param(new ZodPipe(TenantPath, 'path')) path: TenantRef,
    @Query(new ZodPipe(ReportPeriodQuerySchema, 'query')) query: PeriodQuery,
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.rpc.request(
      AuditReportRpc.configurationChanges,
      { ...query, tenantId: path.tenantId, reader: readerOf(request, caller) },
      { timeoutMs: AUDIT_REPORT_TIMEOUT_MS },
    );
    return answer(reply, result);
  }
}
