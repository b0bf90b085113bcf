import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  AppError,
  BulkUserItemSchema,
  CreateTenantRequestSchema,
  ErrorCode,
  parseContract,
  UserRpc,
  type BulkOperation,
  type BulkOperationRpc,
  type RpcPayload,
} from '@tenantry/contracts';
import { messageContext, newContext } from '@tenantry/messaging';
import type { z } from 'zod';
import { ParticipantClient } from '../provisioning/participant.client.js';
import { ProvisioningRepository } from '../provisioning/provisioning.repository.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { TenantQueues } from '../queues/tenant-queues.js';
import { TenantDataRemovers } from '../tenants/tenant-data.js';
import { TenantService } from '../tenants/tenant.service.js';
import type {
  BulkItemError,
  BulkOperationEntity,
  BulkOperationItemEntity,
} from './bulk-operation.entity.js';
import { BulkOperationErrors } from './bulk-operation.errors.js';
import { BulkOperationRepository } from './bulk-operation.repository.js';

/** Items of one operation worked on at once. */
const ITEM_CONCURRENCY = 8;
/** How long a request waits for Redis before leaving the enqueue to the reconciler. */
const ENQUEUE_TIMEOUT_MS = 2_000;

type BulkUserItem = z.output<typeof BulkUserItemSchema>;

/** The job of one bulk operation in the `bulk-operations` queue: its id is the operation's. */
export interface BulkOperationJob {
  operationId: string;
}

/**
 * Many tenants (each through the provisioning pipeline, as `POST /v1/tenants` does) or many
 * users of a tenant (each through identity's `UserRpc.create`, invited by mail) in one
 * request: stored with its items, answered at once, worked by a queued job that records
 * each item's outcome (readable while it goes on). A worker that dies mid-way leaves items
 * pending; the job runs again and picks them up, recognizing an item whose creation went
 * through before the crash.
 */
@Injectable()
export class BulkOperationService implements OnModuleInit {
  private readonly logger = new Logger('BulkOperations');

  constructor(
    @Inject(BulkOperationRepository) private readonly operations: BulkOperationRepository,
    @Inject(ProvisioningService) private readonly provisioning: ProvisioningService,
    @Inject(ProvisioningRepository) private readonly runs: ProvisioningRepository,
    @Inject(TenantService) private readonly tenants: TenantService,
    @Inject(ParticipantClient) private readonly participants: ParticipantClient,
    @Inject(TenantQueues) private readonly queues: TenantQueues,
    @Inject(TenantDataRemovers) private readonly removers: TenantDataRemovers,
  ) {}

  /** Deleting a tenant's data deletes its bulk user operations and scrubs its bulk creation item. */
  onModuleInit(): void {
    this.removers.register('bulk-operations', (manager, tenantId) =>
      this.operations.removeTenant(manager, tenantId),
    );
  }

  async createTenants(
    request: RpcPayload<typeof BulkOperationRpc.createTenants>,
  ): Promise<BulkOperation> {
    return this.start('tenants.create', null, request.tenants);
  }

  async createUsers(
    request: RpcPayload<typeof BulkOperationRpc.createUsers>,
  ): Promise<BulkOperation> {
    await this.tenants.get(request.tenantId);
    return this.start('users.create', request.tenantId, request.users);
  }

  async get(id: string): Promise<BulkOperation> {
    const operation = await this.operations.find(id);
    if (!operation) throw BulkOperationErrors.notFound(id);
    return toContract(operation, await this.operations.itemsOf(id));
  }

  private async start(
    kind: BulkOperation['kind'],
    tenantId: string | null,
    items: readonly object[],
  ): Promise<BulkOperation> {
    const id = uuidv7();
    const context = messageContext.current();
    await this.operations.insert({
      id,
      kind,
      tenantId,
      actor: context?.actor ?? null,
      requestId: context?.requestId ?? null,
      items: items as Record<string, unknown>[],
    });
    try {
      await this.enqueue(id, ENQUEUE_TIMEOUT_MS);
    } catch (error) {
      this.logger.warn(
        `bulk operation ${id} not enqueued now (the reconciler will): ${(error as Error).message}`,
      );
    }
    return this.get(id);
  }

  /** Adds the operation's job (a no-op when it is there: the job id is the operation's). */
  async enqueue(operationId: string, timeoutMs?: number): Promise<void> {
    await this.queues.within(
      this.queues
        .queue('bulk-operations')
        .add('bulk-operation', { operationId } satisfies BulkOperationJob, {
          jobId: operationId,
          attempts: 5,
          backoff: { type: 'exponential', delay: 1_000 },
          removeOnComplete: { age: 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        }),
      `queueing bulk operation ${operationId}`,
      timeoutMs,
    );
  }

  /** Works the operation's pending items, a few at a time, then ends it. */
  async process(operationId: string): Promise<void> {
    const operation = await this.operations.find(operationId);
    if (!operation || (operation.status !== 'pending' && operation.status !== 'running')) return;
    await this.operations.markRunning(operationId);
    const context = newContext({
      ...(operation.actor ? { actor: operation.actor } : {}),
      ...(operation.requestId ? { requestId: operation.requestId } : {}),
    });
    const pending = await this.operations.pendingItems(operationId);
    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        const item = pending[next++]!;
        await messageContext.run(context, () => this.processItem(operation, item));
      }
    };
    await Promise.all(Array.from({ length: Math.min(ITEM_CONCURRENCY, pending.length) }, worker));
    await this.operations.finish(operationId);
  }

  private async processItem(
    operation: BulkOperationEntity,
    item: BulkOperationItemEntity,
  ): Promise<void> {
    const attempt = await this.operations.startItem(operation.id, item.index);
    try {
      const resultId =
        operation.kind === 'tenants.create'
          ? await this.createTenant(operation, item)
          : await this.createUser(operation, item, attempt);
      await this.operations.finishItem(operation.id, item.index, { resultId });
    } catch (error) {
      // Infrastructure gone (the database, NATS): leave the item pending for the job's next attempt.
      if (!(error instanceof AppError) || transient(error)) throw error;
      await this.operations.finishItem(operation.id, item.index, { error: itemError(error) });
    }
  }

  private async createTenant(
    operation: BulkOperationEntity,
    item: BulkOperationItemEntity,
  ): Promise<string> {
    // Created before a crash took the worker: the run says so.
    const existing = await this.runs.findByBulkItem(operation.id, item.index);
    if (existing) return existing.tenantId;
    const request = parseContract(CreateTenantRequestSchema, item.input);
    const accepted = await this.provisioning.provisionNew(request, {
      bulk: { operationId: operation.id, index: item.index },
    });
    return accepted.tenant.id;
  }

  private async createUser(
    operation: BulkOperationEntity,
    item: BulkOperationItemEntity,
    attempt: number,
  ): Promise<string> {
    const input = parseContract(BulkUserItemSchema, item.input) as BulkUserItem;
    const tenantId = operation.tenantId!;
    try {
      const user = await this.participants.call(UserRpc.create, {
        tenantId,
        email: input.email,
        displayName: input.displayName ?? input.email.split('@')[0]!,
        ...(input.roles ? { roles: input.roles } : {}),
      });
      return user.id;
    } catch (error) {
      // A second attempt at an item whose first went through (the worker died before recording it).
      if (attempt > 1 && error instanceof AppError && error.code === ErrorCode.Conflict) {
        const email = input.email.trim().toLowerCase();
        const page = await this.participants.call(UserRpc.list, { tenantId, email, limit: 5 });
        const user = page.items.find((u) => u.email === email);
        if (user) return user.id;
      }
      throw error;
    }
  }
}

/** Errors another attempt of the whole job may get past (a service away or slow). */
function transient(error: AppError): boolean {
  return error.code === ErrorCode.ServiceUnavailable || error.code === ErrorCode.Timeout;
}

function itemError(error: AppError): BulkItemError {
  const detail = error.errors?.length
    ? `: ${error.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`
    : '';
  return {
    code: error.code,
    message: `${error.message}${detail && !error.message.includes(detail.slice(2)) ? detail : ''}`,
    ...(error.reason ? { reason: error.reason } : {}),
  };
}

function toContract(
  operation: BulkOperationEntity,
  items: BulkOperationItemEntity[],
): BulkOperation {
  return {
    id: operation.id,
    kind: operation.kind,
    tenantId: operation.tenantId,
    status: operation.status,
    total: operation.total,
    succeeded: operation.succeeded,
    failed: operation.failed,
    items: items.map((item) => ({
      index: item.index,
      status: item.status,
      id: item.resultId,
      error: item.error,
    })),
    createdAt: operation.createdAt.toISOString(),
    finishedAt: operation.finishedAt?.toISOString() ?? null,
  };
}
