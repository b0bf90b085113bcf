import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A ledger entry (`audit_events`): the event as received, its place in the tenant's chain
 * (`seq`, `prevHash`, `hash`) and the exact text that was hashed (`occurredAtText`,
 * `dataText`, `changesText`; `occurredAt`, `data` and `changes` are their parsed forms, for
 * search). Rows are only ever inserted, by LedgerRepository.append.
 */
@Entity('audit_events')
export class AuditEventEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @PrimaryColumn('uuid')
  id!: string;

  @Column('smallint', { name: 'schema_version' })
  schemaVersion!: number;

  @Column('bigint')
  seq!: string;

  @Column('bytea', { name: 'prev_hash' })
  prevHash!: Buffer;

  @Column('bytea')
  hash!: Buffer;

  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt!: Date;

  /** occurredAt as the publisher sent it: what was hashed. */
  @Column('text', { name: 'occurred_at_text' })
  occurredAtText!: string;

  /** Set by the ledger (milliseconds) and hashed. */
  @Column('timestamptz', { name: 'recorded_at' })
  recordedAt!: Date;

  @Column('text')
  category!: string;

  @Column('text')
  action!: string;

  @Column('text')
  outcome!: string;

  @Column('text', { name: 'actor_type' })
  actorType!: string;

  @Column('text', { name: 'actor_id' })
  actorId!: string;

  @Column('text', { name: 'actor_name', nullable: true })
  actorName!: string | null;

  @Column('text', { name: 'actor_ip', nullable: true })
  actorIp!: string | null;

  @Column('text', { name: 'actor_user_agent', nullable: true })
  actorUserAgent!: string | null;

  @Column('text', { name: 'actor_session_id', nullable: true })
  actorSessionId!: string | null;

  @Column('text', { name: 'on_behalf_of_type', nullable: true })
  onBehalfOfType!: string | null;

  @Column('text', { name: 'on_behalf_of_id', nullable: true })
  onBehalfOfId!: string | null;

  @Column('text', { default: 'info' })
  severity!: string;

  @Column('text', { name: 'target_type', nullable: true })
  targetType!: string | null;

  @Column('text', { name: 'target_id', nullable: true })
  targetId!: string | null;

  @Column('text', { name: 'request_id', nullable: true })
  requestId!: string | null;

  @Column('text', { name: 'trace_id', nullable: true })
  traceId!: string | null;

  @Column('text', { nullable: true })
  reason!: string | null;

  /** `JSON.stringify` of the event's data at append time: what was hashed. */
  @Column('text', { name: 'data_text', nullable: true })
  dataText!: string | null;

  @Column('jsonb', { nullable: true })
  data!: Record<string, unknown> | null;

  @Column('text', { name: 'changes_text', nullable: true })
  changesText!: string | null;

  @Column('jsonb', { nullable: true })
  changes!: Record<string, unknown> | null;

  @Column('bigint', { name: 'stream_sequence' })
  streamSequence!: string;
}
