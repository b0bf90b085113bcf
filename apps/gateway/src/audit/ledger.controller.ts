import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AuditCheckpointPageSchema,
  AuditKeysSchema,
  AuditLedgerRpc,
  AuditVerificationSchema,
  ConsistencyProofQuerySchema,
  ConsistencyProofSchema,
  InclusionProofQuerySchema,
  InclusionProofSchema,
  PageQuerySchema,
  strictObject,
  UuidSchema,
  VerifyAuditLedgerBodySchema,
  type PageQuery,
  type Principal,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { Caller, Permission, Public } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { readerOf } from './audit-event.controller.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
type TenantPathInput = z.output<typeof TenantPath>;

/** A verify reads the whole chain (or range) in pages: give it longer than an ordinary request. */
const VERIFY_TIMEOUT_MS = 10 * 60 * 1000;
/** A proof reads the tree's leaves once. */
const PROOF_TIMEOUT_MS = 60 * 1000;

/** The public keys audit checkpoints are signed with, for anyone who verifies them offline. */
@ApiTags('audit')
@Controller('v1/audit/keys')
export class AuditKeyController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Public()
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'The Ed25519 public keys of the audit checkpoints, current and retired',
    description:
      'Each key signs the checkpoints issued between its `notBefore` and `notAfter` (null: the current key). ' +
      'Keys rotate with overlap and are never removed, so every checkpoint ever issued stays verifiable. ' +
      '`publicKey` is the raw 32-byte key in base64url; `jwk` the same key as a JWK (RFC 8037).',
  })
  @ApiContract({ status: 200, response: AuditKeysSchema })
  keys() {
    return this.rpc.request(AuditLedgerRpc.keys, {});
  }
}

/** A tenant's audit ledger evidence: signed checkpoints, RFC 9162 proofs, and verification. */
@ApiTags('audit')
@Controller('v1/tenants/:tenantId/audit')
export class LedgerController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get('checkpoints')
  @Permission('audit:read')
  @ApiOperation({
    summary: "The tenant's signed checkpoints, latest first",
    description:
      "Each checkpoint is a signed statement of the tenant's tree: `treeSize` entries with Merkle root `rootHash` " +
      '(RFC 9162), signed with Ed25519 over its canonical bytes by the key `keyId` (GET /v1/audit/keys). ' +
      '`tombstone`s are written by retention and name the last removed seq. Recorded in the audit log (`audit.read`).',
  })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: AuditCheckpointPageSchema,
  })
  checkpoints(
    @Param(new ZodPipe(TenantPath, 'path')) path: TenantPathInput,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(AuditLedgerRpc.checkpoints, {
      ...query,
      tenantId: path.tenantId,
      reader: readerOf(request, caller),
    });
  }

  @Get('proofs/inclusion')
  @Permission('audit:read')
  @ApiOperation({
    summary: 'The inclusion proof of an entry in a tree of the tenant (RFC 9162 §2.1.3)',
    description:
      'The audit path of entry `seq` (leaf index seq − 1) in the tree of `treeSize` entries (default: the latest ' +
      "checkpoint's), with the entry's hash, the tree's root and that tree's signed checkpoint when one was issued: " +
      'verifiable offline. Works for entries removed by retention too. Recorded in the audit log (`audit.read`).',
  })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: InclusionProofQuerySchema,
    response: InclusionProofSchema,
  })
  inclusion(
    @Param(new ZodPipe(TenantPath, 'path')) path: TenantPathInput,
    @Query(new ZodPipe(InclusionProofQuerySchema, 'query'))
    query: z.output<typeof InclusionProofQuerySchema>,
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(
      AuditLedgerRpc.inclusionProof,
      { ...query, tenantId: path.tenantId, reader: readerOf(request, caller) },
      { timeoutMs: PROOF_TIMEOUT_MS },
    );
  }

  @Get('proofs/consistency')
  @Permission('audit:read')
  @ApiOperation({
    summary: 'The consistency proof between two tree sizes of the tenant (RFC 9162 §2.1.4)',
    description:
      'Proves that the tree of `from` entries is a prefix of the tree of `to` entries (nothing was changed or ' +
      'removed in between), with both roots and their signed checkpoints when issued. Recorded in the audit log.',
  })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: ConsistencyProofQuerySchema,
    response: ConsistencyProofSchema,
  })
  consistency(
    @Param(new ZodPipe(TenantPath, 'path')) path: TenantPathInput,
    @Query(new ZodPipe(ConsistencyProofQuerySchema, 'query'))
    query: z.output<typeof ConsistencyProofQuerySchema>,
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(
      AuditLedgerRpc.consistencyProof,
      { ...query, tenantId: path.tenantId, reader: readerOf(request, caller) },
      { timeoutMs: PROOF_TIMEOUT_MS },
    );
  }

  @Post('verify')
  @HttpCode(200)
  @Permission('audit:read')
  @ApiOperation({
    summary: "Verify the tenant's ledger as stored, or a range of it",
    description:
      'Recomputes every entry of [fromSeq, toSeq] (default: the whole chain) from the rows as they are in the ' +
      'database and checks the chain, then every checkpoint in the range against the published keys and against ' +
      'the root of the stored hashes. `firstBad` names the first bad position (an entry seq, or a checkpoint tree ' +
      'size) and its kind: `chain_break`, `altered`, `gap`, `bad_signature`, `unknown_key` or `root_mismatch`. ' +
      'Recorded in the audit log (`audit.read`).',
  })
  @ApiContract({
    status: 200,
    path: TenantPath,
    body: VerifyAuditLedgerBodySchema,
    response: AuditVerificationSchema,
  })
  verify(
    @Param(new ZodPipe(TenantPath, 'path')) path: TenantPathInput,
    @Body(new ZodPipe(VerifyAuditLedgerBodySchema, 'body'))
    body: z.output<typeof VerifyAuditLedgerBodySchema>,
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(
      AuditLedgerRpc.verify,
      { ...body, tenantId: path.tenantId, reader: readerOf(request, caller) },
      { timeoutMs: VERIFY_TIMEOUT_MS },
    );
  }
}
