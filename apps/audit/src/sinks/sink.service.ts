import { uuidv7 } from '@tenantry/runtime';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  Cursor,
  parseActor,
  UuidSchema,
  type AuditEvent,
  type AuditSeverity,
  type AuditSink,
  type AuditSinkDeadLetter,
  type AuditSinkDelivery,
  type AuditSinkEntry,
  type AuditSinkRpc,
  type CreatedAuditSink,
  type RpcPayload,
  type RpcResponse,
} from '@tenantry/contracts';
import { EventPublisher, messageContext } from '@tenantry/messaging';
import { z } from 'zod';
import { SinkEntity, type SinkDeadLetterEntity } from './sink.entity.js';
import { SinkErrors } from './sink.errors.js';
import { deliver, judge } from './sink.format.js';
import { SinkRepository, type SinkChanges, type SinkView } from './sink.repository.js';
import { InjectSinkSettings, type SinkSettings } from './sink.settings.js';
import { checkSinkUrl } from './sink.url-guard.js';

type Request<K extends keyof typeof AuditSinkRpc> = RpcPayload<(typeof AuditSinkRpc)[K]>;

const IdCursor = z.tuple([UuidSchema]);
/** A replay sends at most this many entries (a dead letter holds one batch: ≤ 500). */
const REPLAY_MAX_ENTRIES = 1000;
const ZERO_HASH = '0'.repeat(64);

/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`); undefined when none. */
function traceIdOf(traceparent: string | undefined): string | undefined {
  const traceId = traceparent?.split('-')[1];
  return traceId && /^[0-9a-f]{32}$/.test(traceId) && !/^0+$/.test(traceId) ? traceId : undefined;
}

/** A sink's settings as audited (never its secret or token). */
function auditedSettings(sink: SinkEntity) {
  return {
    name: sink.name,
    type: sink.type,
    url: sink.url,
    categories: sink.categories,
    enabled: sink.enabled,
    batchSize: sink.batchSize,
    maxAttempts: sink.maxAttempts,
  };
}

/** A webhook secret when the request gave none: `whsec_` and 32 random bytes, base64url. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * A tenant's audit sinks: create (the webhook secret shown once), read with their delivery
 * status, change, delete, test, and the dead-letter list with replay. Delivery itself is
 * SinkDeliveryWorker's.
 */
@Injectable()
export class SinkService {
  private readonly logger = new Logger('AuditSinks');

  constructor(
    @Inject(SinkRepository) private readonly sinks: SinkRepository,
    @InjectSinkSettings() private readonly settings: SinkSettings,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
  ) {}

  async create(request: Request<'create'>): Promise<CreatedAuditSink> {
    let secret: string;
    if (request.type === 'webhook') {
      if (request.token !== undefined) throw SinkErrors.tokenNotForType();
      secret = request.secret ?? generateWebhookSecret();
    } else {
      if (request.secret !== undefined) throw SinkErrors.secretNotForType();
      if (request.token === undefined) throw SinkErrors.tokenRequired();
      secret = request.token;
    }
    await checkSinkUrl(request.url, this.settings.allowOrigins);
    const now = new Date();
    const entity = Object.assign(new SinkEntity(), {
      id: uuidv7(),
      tenantId: request.tenantId,
      name: request.name,
      type: request.type,
      url: request.url,
      secret,
      categories: request.categories ?? [],
      enabled: request.enabled,
      batchSize: request.batchSize,
      maxAttempts: request.maxAttempts,
      createdAt: now,
    });
    const view = await this.sinks.create(entity, request.startFrom);
    if (view === 'name-taken') throw SinkErrors.nameTaken(request.name);
    await this.audit(view.sink, 'audit_sink.created', 'notice', {
      ...auditedSettings(view.sink),
      startFrom: request.startFrom,
      secretGenerated: request.type === 'webhook' && request.secret === undefined,
    });
    return { ...toContract(view), secret: request.type === 'webhook' ? secret : null };
  }

  async get({ tenantId, sinkId }: Request<'get'>): Promise<AuditSink> {
    return toContract(await this.view(tenantId, sinkId));
  }

  /** Newest first (ids are UUIDv7); the cursor is the last id of the previous page. */
  async list({
    tenantId,
    limit,
    cursor,
  }: Request<'list'>): Promise<RpcResponse<typeof AuditSinkRpc.list>> {
    const before = cursor ? Cursor.decode(cursor, IdCursor)[0] : undefined;
    const rows = await this.sinks.list(tenantId, limit + 1, before);
    const page = rows.slice(0, limit);
    return {
      items: page.map(toContract),
      nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.sink.id]) : null,
    };
  }

  async update(request: Request<'update'>): Promise<AuditSink> {
    const { tenantId, sinkId } = request;
    const current = (await this.view(tenantId, sinkId)).sink;
    if (current.type === 'webhook' && request.token !== undefined)
      throw SinkErrors.tokenNotForType();
    if (current.type === 'splunk-hec' && request.secret !== undefined)
      throw SinkErrors.secretNotForType();
    if (request.url !== undefined && request.url !== current.url)
      await checkSinkUrl(request.url, this.settings.allowOrigins);
    const changes: SinkChanges = {
      name: request.name,
      url: request.url,
      secret: current.type === 'webhook' ? request.secret : request.token,
      categories: request.categories,
      enabled: request.enabled,
      batchSize: request.batchSize,
      maxAttempts: request.maxAttempts,
    };
    const view = await this.sinks.update(tenantId, sinkId, changes);
    if (view === 'name-taken') throw SinkErrors.nameTaken(request.name!);
    if (!view) throw SinkErrors.notFound(sinkId);
    const before = auditedSettings(current);
    const after = auditedSettings(view.sink);
    const changed = (Object.keys(before) as (keyof typeof before)[]).filter(
      (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
    );
    // Turning delivery off is what someone hiding their tracks would do: a warning.
    await this.audit(
      view.sink,
      'audit_sink.updated',
      after.enabled ? 'notice' : 'warning',
      {
        changed,
        secretReplaced: changes.secret !== undefined,
      },
      { before, after },
    );
    return toContract(view);
  }

  async delete({ tenantId, sinkId }: Request<'delete'>): Promise<{ deleted: true }> {
    const { sink } = await this.view(tenantId, sinkId);
    if (!(await this.sinks.delete(tenantId, sinkId))) throw SinkErrors.notFound(sinkId);
    await this.audit(sink, 'audit_sink.deleted', 'warning', auditedSettings(sink));
    return { deleted: true };
  }

  /** Sends one synthetic event (seq 0, not in the ledger, `test: true`) to the sink now. */
  async test({ tenantId, sinkId }: Request<'test'>): Promise<AuditSinkDelivery> {
    const { sink } = await this.view(tenantId, sinkId);
    const now = new Date().toISOString();
    const actor = parseActor(messageContext.current()?.actor) ?? {
      type: 'system' as const,
      id: 'tenantry-audit',
    };
    const event: AuditSinkEntry = {
      schemaVersion: 1,
      id: uuidv7(),
      tenantId,
      seq: 0,
      occurredAt: now,
      recordedAt: now,
      category: 'audit',
      action: 'audit.sink_tested',
      outcome: 'success',
      severity: 'info',
      actor,
      target: { type: 'audit_sink', id: sinkId },
      data: { note: 'a test delivery from Tenantry: not an entry of the ledger' },
      prevHash: ZERO_HASH,
      hash: ZERO_HASH,
    };
    return this.attempt(sink, [event], { test: true });
  }

  async deadLetters({
    tenantId,
    sinkId,
    limit,
    cursor,
  }: Request<'deadLetters'>): Promise<RpcResponse<typeof AuditSinkRpc.deadLetters>> {
    await this.view(tenantId, sinkId);
    const before = cursor ? Cursor.decode(cursor, IdCursor)[0] : undefined;
    const rows = await this.sinks.deadLetters(tenantId, sinkId, limit + 1, before);
    const page = rows.slice(0, limit);
    return {
      items: page.map(deadLetterToContract),
      nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.id]) : null,
    };
  }

  /**
   * Re-sends a dead letter's range (the entries of the sink's categories in it) now, in
   * one request; removes it from the list when the receiver takes it, else records the
   * attempt and keeps it. A range with no entry left (categories changed since) is removed.
   */
  async replay({ tenantId, sinkId, deadLetterId }: Request<'replay'>): Promise<AuditSinkDelivery> {
    const { sink } = await this.view(tenantId, sinkId);
    const letter = await this.sinks.findDeadLetter(tenantId, sinkId, deadLetterId);
    if (!letter) throw SinkErrors.deadLetterNotFound(deadLetterId);
    const entries = await this.sinks.entriesInRange(
      tenantId,
      sink.categories,
      letter.firstSeq,
      letter.lastSeq,
      REPLAY_MAX_ENTRIES,
    );
    if (!entries.length) {
      await this.sinks.settleReplay(letter, null);
      return { delivered: true, status: null, error: null, events: 0, deliveryId: uuidv7() };
    }
    const result = await this.attempt(sink, entries, {});
    await this.sinks.settleReplay(
      letter,
      result.delivered ? null : { error: result.error!, status: result.status },
    );
    await this.audit(sink, 'audit_sink.replayed', 'notice', {
      deadLetterId: letter.id,
      firstSeq: letter.firstSeq,
      lastSeq: letter.lastSeq,
      events: entries.length,
      delivered: result.delivered,
      status: result.status,
    });
    return result;
  }

  /**
   * Records a change to a sink (or a replay) in the tenant's own chain, as an event of
   * category `audit` published to the AUDIT stream after the change committed. A publish
   * that fails is logged: the change stands.
   */
  private async audit(
    sink: SinkEntity,
    action: string,
    severity: AuditSeverity,
    data: Record<string, unknown>,
    changes?: AuditEvent['changes'],
  ): Promise<void> {
    const context = messageContext.current();
    const traceId = traceIdOf(context?.traceparent);
    const event: AuditEvent = {
      schemaVersion: 1,
      id: uuidv7(),
      tenantId: sink.tenantId,
      occurredAt: new Date().toISOString(),
      category: 'audit',
      action,
      outcome: 'success',
      severity,
      actor: parseActor(context?.actor) ?? { type: 'service', id: 'audit' },
      target: { type: 'audit_sink', id: sink.id },
      ...(context?.requestId ? { requestId: context.requestId } : {}),
      ...(traceId ? { traceId } : {}),
      data,
      ...(changes ? { changes } : {}),
    };
    try {
      await this.publisher.publishAudit(
        event,
        context ? { ...context, tenantId: sink.tenantId } : undefined,
      );
    } catch (error) {
      this.logger.error(
        `could not record ${action} of audit sink ${sink.id} (tenant ${sink.tenantId}): ${(error as Error).message}`,
      );
    }
  }

  private async attempt(
    sink: SinkEntity,
    entries: AuditSinkEntry[],
    options: { test?: boolean },
  ): Promise<AuditSinkDelivery> {
    const { deliveryId, outcome } = await deliver(
      sink,
      entries,
      this.settings.allowOrigins,
      options,
    );
    const verdict = judge(outcome);
    return {
      delivered: verdict.kind === 'delivered',
      status: verdict.status,
      error: verdict.kind === 'delivered' ? null : verdict.error,
      events: entries.length,
      deliveryId,
    };
  }

  private async view(tenantId: string, sinkId: string): Promise<SinkView> {
    const view = await this.sinks.find(tenantId, sinkId);
    if (!view) throw SinkErrors.notFound(sinkId);
    return view;
  }
}

function toContract({ sink, nextAttemptAt, headSeq, deadLetters }: SinkView): AuditSink {
  return {
    id: sink.id,
    tenantId: sink.tenantId,
    name: sink.name,
    type: sink.type,
    url: sink.url,
    categories: sink.categories,
    enabled: sink.enabled,
    batchSize: sink.batchSize,
    maxAttempts: sink.maxAttempts,
    createdAt: sink.createdAt.toISOString(),
    updatedAt: sink.updatedAt.toISOString(),
    status: {
      deliveredThroughSeq: sink.deliveredThroughSeq,
      headSeq,
      lag: Math.max(0, headSeq - sink.deliveredThroughSeq),
      lastSuccessAt: sink.lastSuccessAt?.toISOString() ?? null,
      lastErrorAt: sink.lastErrorAt?.toISOString() ?? null,
      lastError: sink.lastError,
      consecutiveFailures: sink.consecutiveFailures,
      nextAttemptAt: sink.enabled && nextAttemptAt ? nextAttemptAt.toISOString() : null,
      deadLetters,
    },
  };
}

function deadLetterToContract(letter: SinkDeadLetterEntity): AuditSinkDeadLetter {
  return {
    id: letter.id,
    tenantId: letter.tenantId,
    sinkId: letter.sinkId,
    firstSeq: letter.firstSeq,
    lastSeq: letter.lastSeq,
    events: letter.events,
    attempts: letter.attempts,
    lastError: letter.lastError,
    lastStatus: letter.lastStatus,
    createdAt: letter.createdAt.toISOString(),
  };
}
