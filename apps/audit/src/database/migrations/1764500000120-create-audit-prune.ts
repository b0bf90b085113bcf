import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention, the only way rows leave the ledger: `audit_prune(tenant, before)`, a SECURITY
 * DEFINER function owned by the owner role, deletes a tenant's entries up to the largest
 * sealed tree size (a checkpoint's) whose entries are all recorded before `before`, and
 * returns the last seq it removed (null: nothing to remove). `audit_leaves` and the
 * checkpoints stay, so proofs and verification keep working; the service then signs a
 * tombstone checkpoint naming that seq, in the same transaction.
 */
export class CreateAuditPrune1764500000120 implements MigrationInterface {
  name = 'CreateAuditPrune1764500000120';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE FUNCTION audit_prune(tenant uuid, before timestamptz) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      DECLARE
        current_tenant text := NULLIF(current_setting('app.tenant_id', true), '');
        first_young bigint;
        through bigint;
        removed bigint;
      BEGIN
        IF tenant IS NULL OR before IS NULL THEN
          RAISE EXCEPTION 'audit_prune(tenant, before) needs both arguments';
        END IF;
        IF current_tenant IS NOT NULL AND current_tenant::uuid <> tenant THEN
          RAISE EXCEPTION 'audit_prune: the transaction runs as tenant %, not %', current_tenant, tenant;
        END IF;
        PERFORM set_config('app.tenant_id', tenant::text, true);
        SELECT seq INTO first_young FROM audit_events
         WHERE tenant_id = tenant AND recorded_at >= before ORDER BY seq LIMIT 1;
        SELECT max(tree_size) INTO through FROM audit_checkpoints
         WHERE tenant_id = tenant AND tree_size < coalesce(first_young, 9223372036854775807);
        IF through IS NULL OR through = 0 THEN
          RETURN NULL;
        END IF;
        PERFORM set_config('tenantry.audit_prune', 'on', true);
        DELETE FROM audit_events WHERE tenant_id = tenant AND seq <= through;
        GET DIAGNOSTICS removed = ROW_COUNT;
        PERFORM set_config('tenantry.audit_prune', '', true);
        IF removed = 0 THEN
          RETURN NULL;
        END IF;
        RETURN through;
      END $$`);
    // Callable by the roles that may append (the app role), by nobody else.
    await runner.query(`REVOKE EXECUTE ON FUNCTION audit_prune(uuid, timestamptz) FROM PUBLIC`);
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
          EXECUTE format('GRANT EXECUTE ON FUNCTION audit_prune(uuid, timestamptz) TO %I', grantee);
        END LOOP;
      END $$`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP FUNCTION audit_prune(uuid, timestamptz)`);
  }
}
