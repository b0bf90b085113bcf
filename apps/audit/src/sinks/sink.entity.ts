import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AuditSinkType } from '@tenantry/contracts';

/**
 * A tenant's audit sink: where its ledger is delivered, and how far. `secret` is the
 * webhook's HMAC key or the Splunk HEC token, stored as given (not hashed: every delivery
 * needs it) and never returned after creation.
 */
@Entity('audit_sinks')
export class SinkEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('text')
  name!: string;

  @Column('text')
  type!: AuditSinkType;

  @Column('text')
  url!: string;

  @Column('text')
  secret!: string;

  /** Only entries of these categories are delivered; empty: all. */
  @Column('text', { array: true })
  categories!: string[];

  @Column('boolean')
  enabled!: boolean;

  @Column('integer', { name: 'batch_size' })
  batchSize!: number;

  @Column('integer', { name: 'max_attempts' })
  maxAttempts!: number;

  /** The cursor: every entry up to this seq was delivered, dead-lettered or filtered out. */
  @Column('bigint', { name: 'delivered_through_seq' })
  deliveredThroughSeq!: number;

  /** Failed attempts at the batch after the cursor. */
  @Column('integer')
  attempts!: number;

  @Column('integer', { name: 'consecutive_failures' })
  consecutiveFailures!: number;

  @Column('timestamptz', { name: 'last_success_at', nullable: true })
  lastSuccessAt!: Date | null;

  @Column('text', { name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column('timestamptz', { name: 'last_error_at', nullable: true })
  lastErrorAt!: Date | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}

/** A batch that could not be delivered: replayable until it is. */
@Entity('audit_sink_dead_letters')
export class SinkDeadLetterEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('uuid', { name: 'sink_id' })
  sinkId!: string;

  @Column('bigint', { name: 'first_seq' })
  firstSeq!: number;

  @Column('bigint', { name: 'last_seq' })
  lastSeq!: number;

  @Column('integer')
  events!: number;

  @Column('integer')
  attempts!: number;

  @Column('text', { name: 'last_error' })
  lastError!: string;

  @Column('integer', { name: 'last_status', nullable: true })
  lastStatus!: number | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
