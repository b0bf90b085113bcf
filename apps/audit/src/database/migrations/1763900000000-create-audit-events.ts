import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuditEvents1763900000000 implements MigrationInterface {
  name = 'CreateAuditEvents1763900000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE audit_events (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        schema_version smallint NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        category text NOT NULL,
        action text NOT NULL,
        outcome text NOT NULL,
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        actor_name text,
        target_type text,
        target_id text,
        request_id text,
        data jsonb,
        stream_sequence bigint NOT NULL,
        PRIMARY KEY (tenant_id, id)
      )`);
    await runner.query(
      `CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at DESC, id DESC)`,
    );
    await enableTenantRls(runner, 'audit_events');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE audit_events`);
  }
}
