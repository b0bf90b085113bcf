import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SIEM delivery: a tenant's sinks (webhook, Splunk HEC) with their cursor in the ledger and
 * their health, the batches that could not be delivered (dead letters), and
 * `audit_sink_queue`, the platform-level list of enabled sinks and when each is next due,
 * which the delivery loop walks across tenants (and locks a row of while delivering).
 */
export class CreateAuditSinks1764500000300 implements MigrationInterface {
  name = 'CreateAuditSinks1764500000300';

  async up(runner: QueryRunner): Promise<void> {
    // secret: the webhook's HMAC key or the Splunk HEC token. Stored as given, not hashed:
    // every delivery must sign with it or present it. Never returned after creation.
    await runner.query(`
      CREATE TABLE audit_sinks (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        type text NOT NULL CHECK (type IN ('webhook', 'splunk-hec')),
        url text NOT NULL,
        secret text NOT NULL,
        categories text[] NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL,
        batch_size integer NOT NULL CHECK (batch_size BETWEEN 1 AND 500),
        max_attempts integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 20),
        delivered_through_seq bigint NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        consecutive_failures integer NOT NULL DEFAULT 0,
        last_success_at timestamptz,
        last_error text,
        last_error_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT audit_sinks_tenant_name_unique UNIQUE (tenant_id, name)
      )`);
    await enableTenantRls(runner, 'audit_sinks');

    await runner.query(`
      CREATE TABLE audit_sink_dead_letters (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        sink_id uuid NOT NULL REFERENCES audit_sinks (id) ON DELETE CASCADE,
        first_seq bigint NOT NULL,
        last_seq bigint NOT NULL,
        events integer NOT NULL,
        attempts integer NOT NULL,
        last_error text NOT NULL,
        last_status integer,
        created_at timestamptz NOT NULL,
        CHECK (first_seq <= last_seq)
      )`);
    await runner.query(
      `CREATE INDEX audit_sink_dead_letters_sink ON audit_sink_dead_letters (tenant_id, sink_id, id DESC)`,
    );
    await enableTenantRls(runner, 'audit_sink_dead_letters');

    await runner.query(`
      CREATE TABLE audit_sink_queue (
        sink_id uuid PRIMARY KEY REFERENCES audit_sinks (id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        retrying boolean NOT NULL DEFAULT false
      )`);
    await runner.query(`CREATE INDEX audit_sink_queue_due ON audit_sink_queue (next_attempt_at)`);
    // The row-level-security check (apps/e2e) accepts a tenant_id table without RLS only
    // when it says why, like this.
    await runner.query(
      `COMMENT ON TABLE audit_sink_queue IS 'platform-level: which enabled audit sinks exist and when each is next due, so that the delivery loop finds them across tenants (it then works under the tenant); holds no secrets and no audit content'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['audit_sink_queue', 'audit_sink_dead_letters', 'audit_sinks'])
      await runner.query(`DROP TABLE ${table}`);
  }
}
