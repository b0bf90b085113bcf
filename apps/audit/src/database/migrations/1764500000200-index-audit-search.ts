import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the search's common filters (`GET /v1/tenants/{tenantId}/audit-events`):
 * each one serves "this category / actor / target, newest first" straight from the index,
 * in the search's order (occurred_at DESC, id DESC), and the action prefix (`LIKE 'user.%'`)
 * through text_pattern_ops. The time range alone uses `audit_events_tenant_time`, an export
 * `(tenant_id, seq)`. Outcome and severity have a few values each and no index of their
 * own: they filter what the time index yields. Every index costs each append a little, so
 * there are no more than these four.
 */
export class IndexAuditSearch1764500000200 implements MigrationInterface {
  name = 'IndexAuditSearch1764500000200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE INDEX audit_events_tenant_category_time ON audit_events (tenant_id, category, occurred_at DESC, id DESC)`,
    );
    await runner.query(
      `CREATE INDEX audit_events_tenant_actor_time ON audit_events (tenant_id, actor_id, occurred_at DESC, id DESC)`,
    );
    await runner.query(
      `CREATE INDEX audit_events_tenant_target_time ON audit_events (tenant_id, target_id, occurred_at DESC, id DESC) WHERE target_id IS NOT NULL`,
    );
    await runner.query(
      `CREATE INDEX audit_events_tenant_action ON audit_events (tenant_id, action text_pattern_ops)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const index of [
      'audit_events_tenant_action',
      'audit_events_tenant_target_time',
      'audit_events_tenant_actor_time',
      'audit_events_tenant_category_time',
    ])
      await runner.query(`DROP INDEX ${index}`);
  }
}
