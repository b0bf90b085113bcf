import type { BulkOperation } from '@tenantry/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

export type BulkKind = BulkOperation['kind'];
export type BulkStatus = BulkOperation['status'];
export type BulkItemStatus = BulkOperation['items'][number]['status'];
export type BulkItemError = NonNullable<BulkOperation['items'][number]['error']>;

/** A bulk operation (`bulk_operations`): many tenants or users in one request. */
@Entity('bulk_operations')
export class BulkOperationEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  kind!: BulkKind;

  @Column('uuid', { name: 'tenant_id', nullable: true })
  tenantId!: string | null;

  @Column('text')
  status!: BulkStatus;

  @Column('integer')
  total!: number;

  @Column('integer')
  succeeded!: number;

  @Column('integer')
  failed!: number;

  @Column('integer')
  requeues!: number;

  /** Who started it: the items are created as this actor. */
  @Column('text', { nullable: true })
  actor!: string | null;

  @Column('text', { name: 'request_id', nullable: true })
  requestId!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;
}

/** One item of a bulk operation (`bulk_operation_items`): its input and what became of it. */
@Entity('bulk_operation_items')
export class BulkOperationItemEntity {
  @PrimaryColumn('uuid', { name: 'operation_id' })
  operationId!: string;

  @PrimaryColumn('integer')
  index!: number;

  @Column('text')
  status!: BulkItemStatus;

  @Column('jsonb')
  input!: Record<string, unknown>;

  @Column('integer')
  attempts!: number;

  @Column('text', { name: 'result_id', nullable: true })
  resultId!: string | null;

  @Column('jsonb', { nullable: true })
  error!: BulkItemError | null;
}
