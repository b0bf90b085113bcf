import { entryHash, GENESIS_HASH } from '@tenantry/audit-ledger';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Rows read per round trip while chaining the events stored before the ledger. */
const PAGE = 5_000;

interface OldRow {
  tenant_id: string;
  id: string;
  schema_version: number;
  occurred_at: Date;
  recorded_at: Date;
  category: string;
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string;
  actor_name: string | null;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  data: Record<string, unknown> | null;
}

/**
 * Turns `audit_events` into the ledger (audit-design.md): the columns the chain and the
 * new optional event fields need; the events stored before it chained per tenant (oldest
 * `recorded_at` first, then id), their hashes computed here with `@tenantry/audit-ledger`;
 * then `seq` unique per tenant, and the ledger tables append-only for everyone but the
 * owner's retention function: the app role loses UPDATE and DELETE, and a trigger refuses
 * them anyway.
 */
export class ChainAuditEvents1764500000110 implements MigrationInterface {
  name = 'ChainAuditEvents1764500000110';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE audit_events
        ADD COLUMN seq bigint,
        ADD COLUMN prev_hash bytea,
        ADD COLUMN hash bytea,
        ADD COLUMN occurred_at_text text,
        ADD COLUMN data_text text,
        ADD COLUMN severity text NOT NULL DEFAULT 'info',
        ADD COLUMN actor_ip text,
        ADD COLUMN actor_user_agent text,
        ADD COLUMN actor_session_id text,
        ADD COLUMN on_behalf_of_type text,
        ADD COLUMN on_behalf_of_id text,
        ADD COLUMN trace_id text,
        ADD COLUMN reason text,
        ADD COLUMN changes_text text,
        ADD COLUMN changes jsonb`);
    // recorded_at is hashed as Date#toISOString (milliseconds): store exactly what is hashed.
    await runner.query(`ALTER TABLE audit_events ALTER COLUMN recorded_at DROP DEFAULT`);

    // The owner sees every tenant's rows only while row-level security is not forced.
    const tables = ['audit_events', 'audit_leaves', 'audit_heads'];
    for (const table of tables)
      await runner.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
    await runner.query(
      `UPDATE audit_events SET recorded_at = date_trunc('milliseconds', recorded_at)`,
    );
    await chainExisting(runner);
    await runner.query(
      `INSERT INTO audit_leaves (tenant_id, seq, hash) SELECT tenant_id, seq, hash FROM audit_events`,
    );
    await runner.query(`
      INSERT INTO audit_heads (tenant_id, seq, hash)
      SELECT DISTINCT ON (tenant_id) tenant_id, seq, hash FROM audit_events ORDER BY tenant_id, seq DESC`);
    await runner.query(
      `INSERT INTO audit_tenants (tenant_id, head_seq) SELECT tenant_id, seq FROM audit_heads`,
    );
    for (const table of tables) await runner.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);

    await runner.query(`
      ALTER TABLE audit_events
        ALTER COLUMN seq SET NOT NULL,
        ALTER COLUMN prev_hash SET NOT NULL,
        ALTER COLUMN hash SET NOT NULL,
        ALTER COLUMN occurred_at_text SET NOT NULL,
        ADD CONSTRAINT audit_events_seq_check CHECK (seq >= 1),
        ADD CONSTRAINT audit_events_hashes_check
          CHECK (octet_length(prev_hash) = 32 AND octet_length(hash) = 32),
        ADD CONSTRAINT audit_events_tenant_id_seq_unique UNIQUE (tenant_id, seq)`);

    await appendOnly(runner);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['audit_events', 'audit_leaves', 'audit_checkpoints']) {
      await runner.query(`DROP TRIGGER ${table}_append_only ON ${table}`);
      await runner.query(`DROP TRIGGER ${table}_no_truncate ON ${table}`);
    }
    await runner.query(`DROP FUNCTION audit_append_only()`);
    await runner.query(`
      ALTER TABLE audit_events
        DROP CONSTRAINT audit_events_tenant_id_seq_unique,
        DROP COLUMN seq, DROP COLUMN prev_hash, DROP COLUMN hash, DROP COLUMN occurred_at_text,
        DROP COLUMN data_text, DROP COLUMN severity, DROP COLUMN actor_ip,
        DROP COLUMN actor_user_agent, DROP COLUMN actor_session_id, DROP COLUMN on_behalf_of_type,
        DROP COLUMN on_behalf_of_id, DROP COLUMN trace_id, DROP COLUMN reason,
        DROP COLUMN changes_text, DROP COLUMN changes`);
    await runner.query(`ALTER TABLE audit_events ALTER COLUMN recorded_at SET DEFAULT now()`);
  }
}

/**
 * Chains the rows stored before the ledger, all tenants in one ordered pass in pages
 * (keeping each tenant's last seq and hash), writing each page's seq and hashes back
 * with one UPDATE.
 */
async function chainExisting(runner: QueryRunner): Promise<void> {
  const heads = new Map<string, { seq: number; hash: string }>();
  let after: [string, Date, string] | undefined;
  for (;;) {
    const rows = (await runner.query(
      `SELECT tenant_id, id, schema_version, occurred_at, recorded_at, category, action, outcome,
              actor_type, actor_id, actor_name, target_type, target_id, request_id, data
         FROM audit_events
        ${after ? 'WHERE (tenant_id, recorded_at, id) > ($1, $2, $3)' : ''}
        ORDER BY tenant_id, recorded_at, id
        LIMIT ${PAGE}`,
      after ?? [],
    )) as OldRow[];
    if (!rows.length) return;
    const updates = rows.map((row) => {
      const head = heads.get(row.tenant_id) ?? { seq: 0, hash: GENESIS_HASH };
      const seq = head.seq + 1;
      const occurredAt = row.occurred_at.toISOString();
      const dataText = row.data === null ? null : JSON.stringify(row.data);
      const hash = entryHash(
        {
          tenantId: row.tenant_id,
          seq,
          id: row.id,
          schemaVersion: row.schema_version,
          occurredAt,
          recordedAt: row.recorded_at.toISOString(),
          category: row.category,
          action: row.action,
          outcome: row.outcome,
          severity: 'info',
          actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
          target:
            row.target_type !== null && row.target_id !== null
              ? { type: row.target_type, id: row.target_id }
              : null,
          requestId: row.request_id,
          dataText,
          changesText: null,
        },
        head.hash,
      );
      heads.set(row.tenant_id, { seq, hash });
      return { row, seq, prevHash: head.hash, hash, occurredAt, dataText };
    });
    await runner.query(
      `UPDATE audit_events e
          SET seq = u.seq, prev_hash = decode(u.prev_hash, 'hex'), hash = decode(u.hash, 'hex'),
              occurred_at_text = u.occurred_at_text, data_text = u.data_text
         FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                     $7::text[])
              AS u(tenant_id, id, seq, prev_hash, hash, occurred_at_text, data_text)
        WHERE e.tenant_id = u.tenant_id AND e.id = u.id`,
      [
        updates.map((u) => u.row.tenant_id),
        updates.map((u) => u.row.id),
        updates.map((u) => String(u.seq)),
        updates.map((u) => u.prevHash),
        updates.map((u) => u.hash),
        updates.map((u) => u.occurredAt),
        updates.map((u) => u.dataText),
      ],
    );
    const last = rows[rows.length - 1]!;
    after = [last.tenant_id, last.recorded_at, last.id];
  }
}

/**
 * The ledger rows are append-only: the app role keeps INSERT and SELECT only, and a trigger
 * refuses UPDATE, DELETE and TRUNCATE from anyone (a superuser gets past it only by
 * switching triggers off, and `verify` then names what changed). The one exception is
 * `audit_prune` (retention, a SECURITY DEFINER function of the owner), which deletes whole
 * sealed segments of `audit_events` with `tenantry.audit_prune` set for its transaction.
 */
async function appendOnly(runner: QueryRunner): Promise<void> {
  await runner.query(`
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_events'
         AND current_setting('tenantry.audit_prune', true) = 'on'
         AND current_user = (SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
                              WHERE c.oid = TG_RELID) THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
    END $$`);
  for (const table of ['audit_events', 'audit_leaves', 'audit_checkpoints']) {
    await runner.query(
      `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
         FOR EACH ROW EXECUTE FUNCTION audit_append_only()`,
    );
    await runner.query(
      `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
         FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()`,
    );
    // Every role granted anything on the table but its owner (the app role, through the
    // default privileges the bootstrap set) loses UPDATE, DELETE and TRUNCATE.
    await runner.query(`
      DO $$
      DECLARE grantee name;
      BEGIN
        FOR grantee IN
          SELECT DISTINCT r.rolname FROM pg_class c, aclexplode(c.relacl) a
            JOIN pg_roles r ON r.oid = a.grantee
           WHERE c.oid = '${table}'::regclass AND a.grantee <> c.relowner
        LOOP
          EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON ${table} FROM %I', grantee);
        END LOOP;
      END $$`);
  }
}
