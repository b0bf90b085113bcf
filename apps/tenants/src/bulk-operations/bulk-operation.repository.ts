import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import {
  BulkOperationEntity,
  BulkOperationItemEntity,
  type BulkItemError,
  type BulkKind,
} from './bulk-operation.entity.js';

export interface NewBulkOperation {
  id: string;
  kind: BulkKind;
  tenantId: string | null;
  actor: string | null;
  requestId: string | null;
  items: Record<string, unknown>[];
}

/** The only code that touches bulk_operations and bulk_operation_items. */
@Injectable()
export class BulkOperationRepository {
  constructor(
    @InjectRepository(BulkOperationEntity)
    private readonly operations: Repository<BulkOperationEntity>,
    @InjectRepository(BulkOperationItemEntity)
    private readonly items: Repository<BulkOperationItemEntity>,
  ) {}

  async insert(operation: NewBulkOperation): Promise<void> {
    await this.operations.manager.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO bulk_operations (id, kind, tenant_id, status, total, actor, request_id)
         VALUES ($1, $2, $3, 'pending', $4, $5, $6)`,
        [
          operation.id,
          operation.kind,
          operation.tenantId,
          operation.items.length,
          operation.actor,
          operation.requestId,
        ],
      );
      // Inserted in slices: 1,000 items × 3 parameters stays far below PostgreSQL's limit anyway.
      for (let start = 0; start < operation.items.length; start += 500) {
        const slice = operation.items.slice(start, start + 500);
        const values: unknown[] = [];
        const rows = slice.map((item, i) => {
          values.push(operation.id, start + i, JSON.stringify(item));
          return `($${i * 3 + 1}, $${i * 3 + 2}, 'pending', $${i * 3 + 3}::jsonb)`;
        });
        await manager.query(
          `INSERT INTO bulk_operation_items (operation_id, index, status, input) VALUES ${rows.join(', ')}`,
          values,
        );
      }
    });
  }

  find(id: string): Promise<BulkOperationEntity | null> {
    return this.operations.findOneBy({ id });
  }

  itemsOf(operationId: string): Promise<BulkOperationItemEntity[]> {
    return this.items.find({ where: { operationId }, order: { index: 'ASC' } });
  }

  pendingItems(operationId: string): Promise<BulkOperationItemEntity[]> {
    return this.items.find({
      where: { operationId, status: 'pending' },
      order: { index: 'ASC' },
    });
  }

  /** Pending or running operations, oldest first: the reconciler's list. */
  open(limit: number): Promise<BulkOperationEntity[]> {
    return this.operations
      .createQueryBuilder('o')
      .where(`o.status IN ('pending', 'running')`)
      .orderBy('o.created_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  async markRunning(id: string): Promise<void> {
    await this.operations.query(
      `UPDATE bulk_operations SET status = 'running' WHERE id = $1 AND status = 'pending'`,
      [id],
    );
  }

  /** One more attempt at an item; answers how many it has had. */
  async startItem(operationId: string, index: number): Promise<number> {
    const [rows] = (await this.items.query(
      `UPDATE bulk_operation_items SET attempts = attempts + 1
        WHERE operation_id = $1 AND index = $2 RETURNING attempts`,
      [operationId, index],
    )) as [{ attempts: number }[], number];
    return rows[0]?.attempts ?? 1;
  }

  /** Records an item's outcome (once) and counts it on the operation. */
  async finishItem(
    operationId: string,
    index: number,
    outcome: { resultId: string } | { error: BulkItemError },
  ): Promise<void> {
    const succeeded = 'resultId' in outcome;
    await this.operations.manager.transaction(async (manager) => {
      const [rows] = (await manager.query(
        `UPDATE bulk_operation_items SET status = $3, result_id = $4, error = $5::jsonb
          WHERE operation_id = $1 AND index = $2 AND status = 'pending' RETURNING index`,
        [
          operationId,
          index,
          succeeded ? 'succeeded' : 'failed',
          succeeded ? outcome.resultId : null,
          succeeded ? null : JSON.stringify(outcome.error),
        ],
      )) as [{ index: number }[], number];
      if (!rows.length) return;
      await manager.query(
        succeeded
          ? `UPDATE bulk_operations SET succeeded = succeeded + 1 WHERE id = $1`
          : `UPDATE bulk_operations SET failed = failed + 1 WHERE id = $1`,
        [operationId],
      );
    });
  }

  /** Ends the operation: `succeeded` (every item), `failed` (none) or `partial`. */
  async finish(id: string): Promise<void> {
    await this.operations.query(
      `UPDATE bulk_operations
          SET status = CASE WHEN failed = 0 THEN 'succeeded' WHEN succeeded = 0 THEN 'failed' ELSE 'partial' END,
              finished_at = now()
        WHERE id = $1 AND status IN ('pending', 'running')`,
      [id],
    );
  }

  async addRequeue(id: string): Promise<void> {
    await this.operations.query(
      `UPDATE bulk_operations SET requeues = requeues + 1 WHERE id = $1`,
      [id],
    );
  }

  /**
   * A deleted tenant's bulk operations: those of its users are deleted (with their items), and
   * in bulk tenant creations its item keeps its result without the request (the first admin's
   * email). Rows removed or scrubbed, by table.
   */
  async removeTenant(manager: EntityManager, tenantId: string): Promise<Record<string, number>> {
    const [, operations]: [unknown, number] = await manager.query(
      `DELETE FROM bulk_operations WHERE tenant_id = $1`,
      [tenantId],
    );
    const [, items]: [unknown, number] = await manager.query(
      `UPDATE bulk_operation_items SET input = '{}'::jsonb WHERE result_id = $1 AND input <> '{}'::jsonb`,
      [tenantId],
    );
    return { bulk_operations: operations, bulk_operation_items_scrubbed: items };
  }
}
