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
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AuditSinkDeadLetterPageSchema,
  AuditSinkDeliverySchema,
  AuditSinkPageSchema,
  AuditSinkRpc,
  AuditSinkSchema,
  CreateAuditSinkBodySchema,
  CreatedAuditSinkSchema,
  PageQuerySchema,
  strictObject,
  UpdateAuditSinkBodySchema,
  UuidSchema,
  type PageQuery,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const SinkPath = strictObject({ tenantId: UuidSchema, sinkId: UuidSchema });
const DeadLetterPath = strictObject({
  tenantId: UuidSchema,
  sinkId: UuidSchema,
  deadLetterId: UuidSchema,
});
const DeletedSchema = z.object({ deleted: z.literal(true) });

/**
 * Create and update resolve the URL's host (SSRF check); test and replay POST to the
 * receiver, which has 10 s to answer: longer than the default RPC timeout.
 */
const RECEIVER_TIMEOUT_MS = 20_000;

type CreateBody = z.output<typeof CreateAuditSinkBodySchema>;
type UpdateBody = z.output<typeof UpdateAuditSinkBodySchema>;

/**
 * A tenant's audit sinks (SIEM delivery): webhooks signed with HMAC-SHA256 and Splunk HEC
 * endpoints that receive the tenant's ledger in seq order, at least once, with their
 * delivery status and dead letters.
 */
@ApiTags('audit')
@Controller('v1/tenants/:tenantId/audit/sinks')
export class SinkController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('audit-sinks:write')
  @ApiOperation({
    summary: "Deliver the tenant's audit log to a webhook or Splunk HEC",
    description:
      'webhook: `POST url` with `{"sinkId","tenantId","events":[...]}` and `Tenantry-Signature: ' +
      't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; the secret (generated ' +
      'when not given) is in this answer only. splunk-hec: `POST <url>/services/collector/event` ' +
      'with `Authorization: Splunk <token>`. https only; private and loopback addresses are refused.',
  })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateAuditSinkBodySchema,
    response: CreatedAuditSinkSchema,
    problems: [409],
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreateAuditSinkBodySchema, 'body')) body: CreateBody,
  ) {
    return this.rpc.request(
      AuditSinkRpc.create,
      { ...body, tenantId: path.tenantId },
      { timeoutMs: RECEIVER_TIMEOUT_MS },
    );
  }

  @Get()
  @Permission('audit-sinks:read')
  @ApiOperation({ summary: "The tenant's audit sinks with their delivery status (no secrets)" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: AuditSinkPageSchema,
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(AuditSinkRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':sinkId')
  @Permission('audit-sinks:read')
  @ApiOperation({
    summary: 'An audit sink and its delivery status',
    description:
      'status: the cursor (deliveredThroughSeq), the lag behind the ledger, the last success and ' +
      'error, consecutive failures, the next attempt and the number of dead letters.',
  })
  @ApiContract({ status: 200, path: SinkPath, response: AuditSinkSchema, problems: [404] })
  get(@Param(new ZodPipe(SinkPath, 'path')) path: z.output<typeof SinkPath>) {
    return this.rpc.request(AuditSinkRpc.get, path);
  }

  @Patch(':sinkId')
  @Permission('audit-sinks:write')
  @ApiOperation({
    summary: 'Change an audit sink (only the fields sent)',
    description:
      '`enabled: false` pauses delivery; enabling it again resumes from where it stopped. A new ' +
      '`secret` or `token` replaces the stored one and is not shown again.',
  })
  @ApiContract({
    status: 200,
    path: SinkPath,
    body: UpdateAuditSinkBodySchema,
    response: AuditSinkSchema,
    problems: [404, 409],
  })
  update(
    @Param(new ZodPipe(SinkPath, 'path')) path: z.output<typeof SinkPath>,
    @Body(new ZodPipe(UpdateAuditSinkBodySchema, 'body')) body: UpdateBody,
  ) {
    return this.rpc.request(
      AuditSinkRpc.update,
      { ...body, ...path },
      { timeoutMs: RECEIVER_TIMEOUT_MS },
    );
  }

  @Delete(':sinkId')
  @Permission('audit-sinks:write')
  @ApiOperation({ summary: 'Delete an audit sink and its dead letters' })
  @ApiContract({ status: 200, path: SinkPath, response: DeletedSchema, problems: [404] })
  delete(@Param(new ZodPipe(SinkPath, 'path')) path: z.output<typeof SinkPath>) {
    return this.rpc.request(AuditSinkRpc.delete, path, { timeoutMs: RECEIVER_TIMEOUT_MS });
  }

  @Post(':sinkId/test')
  @HttpCode(200)
  @Permission('audit-sinks:write')
  @ApiOperation({
    summary: 'Send one synthetic event to the sink now',
    description:
      'The event has seq 0 and zero hashes, is not in the ledger, and the webhook body says ' +
      '`"test": true`. The answer says whether the receiver took it (2xx), its status and error.',
  })
  @ApiContract({ status: 200, path: SinkPath, response: AuditSinkDeliverySchema, problems: [404] })
  test(@Param(new ZodPipe(SinkPath, 'path')) path: z.output<typeof SinkPath>) {
    return this.rpc.request(AuditSinkRpc.test, path, { timeoutMs: RECEIVER_TIMEOUT_MS });
  }

  @Get(':sinkId/dead-letters')
  @Permission('audit-sinks:read')
  @ApiOperation({
    summary: 'Batches the sink gave up on (newest first)',
    description:
      'A batch goes here after maxAttempts failed attempts, or at once when the receiver ' +
      'refuses it (a 4xx other than 408 and 429); delivery then goes on after it.',
  })
  @ApiContract({
    status: 200,
    path: SinkPath,
    query: PageQuerySchema,
    response: AuditSinkDeadLetterPageSchema,
    problems: [404],
  })
  deadLetters(
    @Param(new ZodPipe(SinkPath, 'path')) path: z.output<typeof SinkPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(AuditSinkRpc.deadLetters, { ...query, ...path });
  }

  @Post(':sinkId/dead-letters/:deadLetterId/replay')
  @HttpCode(200)
  @Permission('audit-sinks:write')
  @ApiOperation({
    summary: "Re-send a dead letter's range now",
    description: 'Removed from the list when the receiver takes it (2xx); kept otherwise.',
  })
  @ApiContract({
    status: 200,
    path: DeadLetterPath,
    response: AuditSinkDeliverySchema,
    problems: [404],
  })
  replay(@Param(new ZodPipe(DeadLetterPath, 'path')) path: z.output<typeof DeadLetterPath>) {
    return this.rpc.request(AuditSinkRpc.replay, path, { timeoutMs: RECEIVER_TIMEOUT_MS });
  }
}
