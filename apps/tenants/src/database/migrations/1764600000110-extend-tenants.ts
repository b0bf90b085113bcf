import type { MigrationInterface, QueryRunner } from 'typeorm';

/** DEFAULT_TENANT_SETTINGS of the contracts, as they were when this migration was written. */
const DEFAULT_SETTINGS = {
  ssoRequired: false,
  mfaRequired: false,
  sessionTimeoutMinutes: 7 * 24 * 60,
  ipAllowList: [],
  allowedCountries: [],
  auditRetentionDays: null,
};

/**
 * The tenant registry grows what issue 10 needs: the life-cycle statuses (provisioning,
 * active, suspended, deprovisioning, deleted, failed) with a reason, the plan and per-tenant
 * limit overrides, a pending plan change, region and isolation mode, settings, the latest
 * run, the trial end and the scheduled deletion; and bookkeeping for the participants'
 * configuration: config_version grows with every change of the tenant they must hear about,
 * configured_version and configured_plan_version are the tenant's and its plan's versions
 * every participant last acknowledged (`configure`); a tenant behind either is configured
 * again by the maintenance loop.
 *
 * Existing tenants (created before plans existed, with no limit anywhere) become
 * `enterprise`: unlimited, every feature and every system role, which is exactly what they
 * had. Making them `free` would suddenly cap them at 5 users and no SSO, refusing their admins
 * in the middle of their work; an operator can move each to its real plan afterwards, and
 * the plan change checks their usage. They count as configured (configured_version =
 * config_version): the participants keep treating them as they did (no stored profile:
 * unlimited) until their first change. A tenant `deleting` (a status nothing ever set) becomes
 * `deprovisioning`.
 *
 * The slug is unique only among tenants not `deleted`, so a deleted tenant's slug is free
 * again; the index keeps the old constraint's name, which the repository recognizes.
 */
export class ExtendTenants1764600000110 implements MigrationInterface {
  name = 'ExtendTenants1764600000110';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`UPDATE tenants SET status = 'deprovisioning' WHERE status = 'deleting'`);
    await runner.query(`
      ALTER TABLE tenants
        ADD COLUMN status_reason text,
        ADD COLUMN plan text NOT NULL DEFAULT 'enterprise' REFERENCES plans (key),
        ADD COLUMN region text NOT NULL DEFAULT 'local',
        ADD COLUMN isolation text NOT NULL DEFAULT 'rls',
        ADD COLUMN settings jsonb NOT NULL DEFAULT '${JSON.stringify(DEFAULT_SETTINGS)}'::jsonb,
        ADD COLUMN limit_overrides jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN pending_plan_change jsonb,
        ADD COLUMN run_id uuid,
        ADD COLUMN trial_ends_at timestamptz,
        ADD COLUMN delete_after timestamptz,
        ADD COLUMN config_version integer NOT NULL DEFAULT 0,
        ADD COLUMN configured_version integer NOT NULL DEFAULT 0,
        ADD COLUMN configured_plan_version integer NOT NULL DEFAULT 0`);
    await runner.query(
      `UPDATE tenants SET configured_plan_version = (SELECT version FROM plans WHERE plans.key = tenants.plan)`,
    );
    // Defaults filled the existing rows; new rows always say what they are.
    await runner.query(`
      ALTER TABLE tenants
        ALTER COLUMN plan DROP DEFAULT,
        ALTER COLUMN region DROP DEFAULT,
        ALTER COLUMN settings DROP DEFAULT`);
    await runner.query(`
      ALTER TABLE tenants
        ADD CONSTRAINT tenants_status_check CHECK (status IN
          ('provisioning', 'active', 'suspended', 'deprovisioning', 'deleted', 'failed')),
        ADD CONSTRAINT tenants_isolation_check CHECK (isolation IN ('rls', 'schema', 'database'))`);
    await runner.query(`ALTER TABLE tenants DROP CONSTRAINT tenants_slug_unique`);
    await runner.query(
      `CREATE UNIQUE INDEX tenants_slug_unique ON tenants (slug) WHERE status <> 'deleted'`,
    );
    await runner.query(`CREATE INDEX tenants_status ON tenants (status, id)`);
    await runner.query(`CREATE INDEX tenants_plan ON tenants (plan, id)`);
    await runner.query(`CREATE INDEX tenants_updated_at ON tenants (updated_at)`);
    await runner.query(
      `CREATE INDEX tenants_pending_plan_change ON tenants (id) WHERE pending_plan_change IS NOT NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX tenants_pending_plan_change`);
    await runner.query(`DROP INDEX tenants_updated_at`);
    await runner.query(`DROP INDEX tenants_plan`);
    await runner.query(`DROP INDEX tenants_status`);
    await runner.query(`DROP INDEX tenants_slug_unique`);
    await runner.query(`ALTER TABLE tenants ADD CONSTRAINT tenants_slug_unique UNIQUE (slug)`);
    await runner.query(`
      ALTER TABLE tenants
        DROP CONSTRAINT tenants_isolation_check,
        DROP CONSTRAINT tenants_status_check,
        DROP COLUMN configured_plan_version,
        DROP COLUMN configured_version,
        DROP COLUMN config_version,
        DROP COLUMN delete_after,
        DROP COLUMN trial_ends_at,
        DROP COLUMN run_id,
        DROP COLUMN pending_plan_change,
        DROP COLUMN limit_overrides,
        DROP COLUMN settings,
        DROP COLUMN isolation,
        DROP COLUMN region,
        DROP COLUMN plan,
        DROP COLUMN status_reason`);
  }
}
