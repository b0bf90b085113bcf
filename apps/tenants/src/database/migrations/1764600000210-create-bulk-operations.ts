import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Bulk operations (many tenants or users in one request) and the result of each item. */
export class CreateBulkOperations1764600000210 implements MigrationInterface {
  name = 'CreateBulkOperations1764600000210';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE bulk_operations (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('tenants.create', 'users.create')),
        tenant_id uuid,
        status text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'partial', 'failed')),
        total integer NOT NULL,
        succeeded integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        requeues integer NOT NULL DEFAULT 0,
        actor text,
        request_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await runner.query(
      `CREATE INDEX bulk_operations_open_idx ON bulk_operations (created_at)
        WHERE status IN ('pending', 'running')`,
    );
    await runner.query(
      `COMMENT ON TABLE bulk_operations IS 'platform-level: bulk operations (tenants by operators, users of a tenant by its admins too), worked on across tenants by the bulk worker; tenant_id only says which tenant a users.create fills'`,
    );
    await runner.query(`
      CREATE TABLE bulk_operation_items (
        operation_id uuid NOT NULL REFERENCES bulk_operations (id) ON DELETE CASCADE,
        index integer NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        input jsonb NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        result_id text,
        error jsonb,
        PRIMARY KEY (operation_id, index)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE bulk_operation_items`);
    await runner.query(`DROP TABLE bulk_operations`);
  }
}
