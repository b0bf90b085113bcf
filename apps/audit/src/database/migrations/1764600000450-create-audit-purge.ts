import type { MigrationInterface, QueryRunner } from 'typeorm';

const PLATFORM_TENANT_ID = '00000000-0000-0000-0000-000000000000';

/** The tables audit_purge_tenant empties for a tenant, in the order it empties them. */
const PURGED_TABLES = [
  'audit_sink_dead_letters',
  'audit_sink_queue',
  'audit_sinks',
  'audit_checkpoints',
  'audit_leaves',
  'audit_events',
  'audit_heads',
  'audit_tenants',
];

/**
 * A tenant's life in the ledger (issue 10):
 *
 * - `audit_tenants.retention_days`: the tenant's own retention, set by the tenants service
 *   (null: the installation's AUDIT_RETENTION_DAYS; 0: kept forever);
 * - `audit_purge_tenant(tenant)`: the only way a whole chain leaves the ledger (a deleted
 *   tenant, an undone provisioning), a SECURITY DEFINER function of the owner like
 *   `audit_prune`: under the chain's and the sealer's locks it deletes the tenant's entries,
 *   leaves, heads, checkpoints (tombstones too), sinks, their queue rows and dead letters,
 *   and answers the rows removed per table. The append-only trigger lets the owner delete a
 *   ledger row only while `tenantry.audit_purge` names that row's tenant, and never a row of
 *   the platform tenant, whose chain (the deletion certificates) is never purged;
 * - `audit_purged_chains`: which chains were purged, by the SHA-256 of the tenant id (no
 *   tenant id is kept), so that an event arriving late never opens a new chain.
 */
export class CreateAuditPurge1764600000450 implements MigrationInterface {
  name = 'CreateAuditPurge1764600000450';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE audit_tenants ADD COLUMN retention_days integer CHECK (retention_days >= 0)`,
    );
    await runner.query(
      `COMMENT ON TABLE audit_tenants IS 'platform-level: which tenants have an audit chain, how far each is appended and sealed, and its retention in days (null: the installation''s default, 0: forever); numbers only, no audit content, so that the sealing and retention jobs find their work across tenants'`,
    );

    await runner.query(`
      CREATE TABLE audit_purged_chains (
        chain_hash bytea PRIMARY KEY CHECK (octet_length(chain_hash) = 32),
        purged_at timestamptz NOT NULL
      )`);
    await runner.query(
      `COMMENT ON TABLE audit_purged_chains IS 'platform-level: the chains audit_purge_tenant removed, named by the SHA-256 of the tenant id (no tenant id, no audit content), so that an event arriving after the purge is refused instead of opening a new chain'`,
    );

    await runner.query(appendOnlyFunction(true));

    await runner.query(`
      CREATE FUNCTION audit_purge_tenant(tenant uuid) RETURNS jsonb
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      DECLARE
        current_tenant text := NULLIF(current_setting('app.tenant_id', true), '');
        removed jsonb := '{}'::jsonb;
        n bigint;
      BEGIN
        IF tenant IS NULL THEN
          RAISE EXCEPTION 'audit_purge_tenant(tenant) needs the tenant';
        END IF;
        IF tenant = '${PLATFORM_TENANT_ID}'::uuid THEN
          RAISE EXCEPTION 'audit_purge_tenant: the platform tenant''s chain is never purged'
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF current_tenant IS NOT NULL AND current_tenant::uuid <> tenant THEN
          RAISE EXCEPTION 'audit_purge_tenant: the transaction runs as tenant %, not %', current_tenant, tenant;
        END IF;
        PERFORM set_config('app.tenant_id', tenant::text, true);
        -- No append (chain lock) and no sealing or retention (seal lock) of the tenant meanwhile.
        PERFORM pg_advisory_xact_lock(hashtext('tenantry.audit.chain'), hashtext(tenant::text));
        PERFORM pg_advisory_xact_lock(hashtext('tenantry.audit.seal'), hashtext(tenant::text));
        PERFORM set_config('tenantry.audit_purge', tenant::text, true);
        ${PURGED_TABLES.map(
          (table) => `
        DELETE FROM ${table} WHERE tenant_id = tenant;
        GET DIAGNOSTICS n = ROW_COUNT;
        removed := removed || jsonb_build_object('${table}', n);`,
        ).join('')}
        PERFORM set_config('tenantry.audit_purge', '', true);
        INSERT INTO audit_purged_chains (chain_hash, purged_at)
        VALUES (sha256(convert_to(tenant::text, 'UTF8')), now())
        ON CONFLICT (chain_hash) DO UPDATE SET purged_at = excluded.purged_at;
        RETURN removed;
      END $$`);
    // Callable by the roles that may append (the app role), by nobody else.
    await runner.query(`REVOKE EXECUTE ON FUNCTION audit_purge_tenant(uuid) FROM PUBLIC`);
    await runner.query(`
      DO $$
      DECLARE grantee name;
      BEGIN
        FOR grantee IN
          SELECT DISTINCT r.rolname FROM pg_class c, aclexplode(c.relacl) a
            JOIN pg_roles r ON r.oid = a.grantee
           WHERE c.oid = 'audit_events'::regclass AND a.grantee <> c.relowner
             AND a.privilege_type = 'INSERT'
        LOOP
          EXECUTE format('GRANT EXECUTE ON FUNCTION audit_purge_tenant(uuid) TO %I', grantee);
        END LOOP;
      END $$`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP FUNCTION audit_purge_tenant(uuid)`);
    await runner.query(appendOnlyFunction(false));
    await runner.query(`DROP TABLE audit_purged_chains`);
    await runner.query(`ALTER TABLE audit_tenants DROP COLUMN retention_days`);
  }
}

/**
 * The append-only trigger's function (1764500000110): refuses UPDATE, DELETE and TRUNCATE
 * on the ledger's tables, but lets the table's owner delete rows of `audit_events` while
 * `tenantry.audit_prune` is on (retention) and, with `purge`, rows of the tenant that
 * `tenantry.audit_purge` names (audit_purge_tenant), never the platform tenant's.
 */
function appendOnlyFunction(purge: boolean): string {
  const purging = `
        IF current_setting('tenantry.audit_purge', true) = OLD.tenant_id::text
           AND OLD.tenant_id <> '${PLATFORM_TENANT_ID}'::uuid THEN
          RETURN OLD;
        END IF;`;
  return `
    CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE'
         AND current_user = (SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
                              WHERE c.oid = TG_RELID) THEN
        IF TG_TABLE_NAME = 'audit_events'
           AND current_setting('tenantry.audit_prune', true) = 'on' THEN
          RETURN OLD;
        END IF;${purge ? purging : ''}
      END IF;
      RAISE EXCEPTION 'audit ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
    END $$`;
}
