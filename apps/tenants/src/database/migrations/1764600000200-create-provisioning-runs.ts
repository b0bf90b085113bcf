import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The provisioning pipeline's state: one row per run (provision or deprovision of a tenant)
 * and one per step of it. PostgreSQL is the truth; BullMQ only carries the work, so a run
 * whose jobs Redis lost is found here and enqueued again.
 */
export class CreateProvisioningRuns1764600000200 implements MigrationInterface {
  name = 'CreateProvisioningRuns1764600000200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE provisioning_runs (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        kind text NOT NULL CHECK (kind IN ('provision', 'deprovision')),
        status text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'compensating', 'failed', 'cancelled')),
        input jsonb NOT NULL DEFAULT '{}'::jsonb,
        failed_step text,
        error text,
        requeues integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        not_before timestamptz
      )`);
    await runner.query(
      `CREATE INDEX provisioning_runs_tenant_idx ON provisioning_runs (tenant_id, created_at DESC, id DESC)`,
    );
    await runner.query(
      `CREATE INDEX provisioning_runs_open_idx ON provisioning_runs (created_at)
        WHERE status IN ('pending', 'running', 'compensating')`,
    );
    await runner.query(
      `COMMENT ON TABLE provisioning_runs IS 'platform-level: the provisioning pipeline''s runs (which tenant, which step failed and why), worked on across tenants by the workers and the reconciler; the tenant''s data lives in the participants'`,
    );
    await runner.query(`
      CREATE TABLE provisioning_steps (
        run_id uuid NOT NULL REFERENCES provisioning_runs (id) ON DELETE CASCADE,
        name text NOT NULL,
        service text NOT NULL,
        position integer NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'compensating', 'compensated', 'skipped')),
        attempts integer NOT NULL DEFAULT 0,
        started_at timestamptz,
        finished_at timestamptz,
        error text,
        output jsonb,
        PRIMARY KEY (run_id, name),
        CONSTRAINT provisioning_steps_position_unique UNIQUE (run_id, position)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE provisioning_steps`);
    await runner.query(`DROP TABLE provisioning_runs`);
  }
}
