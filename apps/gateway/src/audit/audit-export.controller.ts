import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Logger, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { checkpointLine, entryLine, headerLine, inclusionLine } from '@tenantry/audit-ledger';
import {
  AppError,
  AuditEventRpc,
  ErrorCode,
  ExportAuditEventsQuerySchema,
  strictObject,
  UuidSchema,
  type AuditExportRange,
  type ExportAuditEventsQuery,
  type LedgerEntryMessage,
  type Principal,
} from '@tenantry/contracts';
import { messageContext, newContext, RpcClient, type MessageContext } from '@tenantry/messaging';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Caller, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { readerOf } from './audit-event.controller.js';
import { csvHeader, csvRow } from './audit-export.csv.js';

const TenantPath = strictObject({ tenantId: UuidSchema });

/** Entries asked for per page (the audit service also stops a page at about 3/4 of NATS's max payload). */
export const EXPORT_PAGE_SIZE = 2_000;

/**
 * Entries per written chunk: about 80 KB of text, so that each chunk is a short-lived
 * young-generation string rather than a large object that only a full GC frees.
 */
const CHUNK_ENTRIES = 128;

/** The footer may have to seal a checkpoint and walk the tenant's leaves for the proof. */
const PROOF_TIMEOUT_MS = 120_000;

const CONTENT_TYPES = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
} as const;

/**
 * The export's entries from the audit service, page by page in seq order, with the next
 * page already asked for while the current one is written (two pages in memory at most).
 * Each page must continue exactly where the previous one stopped: anything else (entries
 * removed by retention meanwhile, a row missing) ends the export with an error.
 */
async function* exportPages(
  rpc: RpcClient,
  range: AuditExportRange,
  context: MessageContext,
): AsyncGenerator<LedgerEntryMessage[]> {
  const fetch = (afterSeq: number) => {
    const promise = rpc.request(
      AuditEventRpc.exportPage,
      { tenantId: range.tenantId, afterSeq, toSeq: range.toSeq, limit: EXPORT_PAGE_SIZE },
      { context },
    );
    promise.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    return promise;
  };
  let expected = range.fromSeq;
  let next = expected <= range.toSeq ? fetch(expected - 1) : undefined;
  while (next) {
    const { entries } = await next;
    for (const entry of entries) {
      if (entry.seq !== expected)
        throw new AppError(
          ErrorCode.Internal,
          `the export expected entry ${expected} and got ${entry.seq}: entries were removed meanwhile (retention); export from a later fromSeq`,
        );
      expected += 1;
    }
    if (!entries.length)
      throw new AppError(
        ErrorCode.Internal,
        `the export stopped at entry ${expected}: it is no longer in the ledger (retention); export from a later fromSeq`,
      );
    next = expected <= range.toSeq ? fetch(expected - 1) : undefined;
    yield entries;
  }
}

/** The export's NDJSON lines, a page per chunk: header, entries, checkpoint and inclusion proof. */
async function* ndjsonChunks(
  rpc: RpcClient,
  range: AuditExportRange,
  pages: AsyncGenerator<LedgerEntryMessage[]>,
  context: MessageContext,
): AsyncGenerator<string> {
  // The header goes with the first page: the export's first chunk has needed the audit service once.
  let header = `${headerLine(range)}\n`;
  for await (const entries of pages)
    for (let at = 0; at < entries.length; at += CHUNK_ENTRIES) {
      const lines = entries.slice(at, at + CHUNK_ENTRIES).map(entryLine);
      yield `${header}${lines.join('\n')}\n`;
      header = '';
    }
  const proof = await rpc.request(
    AuditEventRpc.exportProof,
    { tenantId: range.tenantId, toSeq: range.toSeq },
    { context, timeoutMs: PROOF_TIMEOUT_MS },
  );
  yield (
    `${checkpointLine(proof.checkpoint, proof.signature, proof.keys)}\n` +
    `${inclusionLine(proof.inclusion.seq, proof.inclusion.treeSize, proof.inclusion.proof)}\n`
  );
}

/** The export's CSV: a header row, then a row per entry; no proof lines (verify the NDJSON). */
async function* csvChunks(pages: AsyncGenerator<LedgerEntryMessage[]>): AsyncGenerator<string> {
  let header = csvHeader();
  for await (const entries of pages)
    for (let at = 0; at < entries.length; at += CHUNK_ENTRIES) {
      yield `${header}${entries
        .slice(at, at + CHUNK_ENTRIES)
        .map(csvRow)
        .join('')}`;
      header = '';
    }
}

/** Writes a chunk, waiting while the client is slow (backpressure); false once the client is gone. */
async function write(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
  return !res.destroyed;
}

/** The last line of an export that failed after its first byte (no problem document can follow a 200). */
export function errorLine(error: unknown, requestId: string): string {
  const known = error instanceof AppError;
  return `${JSON.stringify({
    type: 'error',
    code: known ? error.code : ErrorCode.Internal,
    message: known ? error.message : 'the export failed; try again',
    requestId,
  })}\n`;
}

/**
 * `GET /v1/tenants/{tenantId}/audit-events/export`: the tenant's ledger from fromSeq to
 * toSeq, streamed as NDJSON (verifiable offline) or CSV. Constant memory at any size: the
 * gateway asks the audit service for a page at a time (`audit.events.export-page`) and
 * writes it only as fast as the client reads.
 */
@ApiTags('audit')
@Controller('v1/tenants/:tenantId/audit-events/export')
export class AuditExportController {
  private readonly logger = new Logger(AuditExportController.name);

  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Permission('audit:read')
  @ApiOperation({
    summary: "Export a tenant's audit log (NDJSON or CSV, streamed)",
    description:
      'The entries from `fromSeq` (default: the oldest kept) to `toSeq` (default: the newest now), in seq order. ' +
      '**NDJSON** (`application/x-ndjson`, the default): a header line, one `entry` line per entry as hashed, then a ' +
      '`checkpoint` line (a signed checkpoint covering toSeq, with the public keys) and an `inclusion` line (the last ' +
      "entry's inclusion proof in that checkpoint's tree): `npx tenantry-audit verify <file>` checks it offline. " +
      '**CSV** (`text/csv`): a header row and one row per entry (RFC 4180; a cell beginning with =, +, -, @, tab or CR ' +
      "gets a leading ' against formula injection), without the proof lines: verify the NDJSON. " +
      'The export itself is recorded in the audit log (`audit.exported`). Errors before the first byte are problem ' +
      'documents; an error after it ends the body with a line `{"type":"error","code","message","requestId"}` and ' +
      'aborts the connection (the response is then incomplete: discard it).',
  })
  @ApiProduces(CONTENT_TYPES.ndjson, CONTENT_TYPES.csv)
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: ExportAuditEventsQuerySchema,
    response: z.string().describe('NDJSON lines or CSV rows'),
  })
  async export(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(ExportAuditEventsQuerySchema, 'query')) query: ExportAuditEventsQuery,
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const filename = `audit-${path.tenantId}.${query.format}`;
    const headers = {
      'content-type': CONTENT_TYPES[query.format],
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    };
    if (request.method === 'HEAD') {
      await reply.headers(headers).send();
      return;
    }
    // Later pages are written from socket callbacks, outside the request's async context.
    const context = messageContext.current() ?? newContext();
    const range = await this.rpc.request(
      AuditEventRpc.exportBegin,
      { ...query, tenantId: path.tenantId, reader: readerOf(request, caller) },
      { context },
    );
    const pages = exportPages(this.rpc, range, context);
    const chunks =
      query.format === 'csv' ? csvChunks(pages) : ndjsonChunks(this.rpc, range, pages, context);
    // The first chunk (the header and the first page) before the status line: what fails
    // this early is still a problem document.
    const first = await chunks.next();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), ...headers });
    try {
      let open = first.done ? true : await write(res, first.value);
      while (open) {
        const next = await chunks.next();
        if (next.done) break;
        open = await write(res, next.value);
      }
      if (open) res.end();
      else await chunks.return(undefined);
    } catch (error) {
      // After a 200 and part of the body, the client can only learn of the failure in the
      // body: a last error line, then the connection is cut (no final chunk).
      this.logger.error(
        `audit export of tenant ${range.tenantId} (request ${String(request.id)}) failed after its first byte: ${(error as Error).message}`,
      );
      if (!res.destroyed) res.write(errorLine(error, String(request.id)), () => res.destroy());
    }
  }
}
