import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Email domains tenants claim (tenant data, row-level security), and verified_domains:
 * the platform-level index of which tenant holds each verified domain, so that no two
 * tenants hold the same domain verified and a sign-in can find the tenant of its email's
 * domain before it knows any tenant.
 */
export class CreateDomains1764500000300 implements MigrationInterface {
  name = 'CreateDomains1764500000300';

  async up(runner: QueryRunner): Promise<void> {
    // A pending claim until its TXT record is found; several tenants may claim the same domain.
    await runner.query(`
      CREATE TABLE domains (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        domain text NOT NULL,
        verification_token text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        verified_at timestamptz,
        CONSTRAINT domains_tenant_domain_unique UNIQUE (tenant_id, domain)
      )`);
    await enableTenantRls(runner, 'domains');

    // One row per verified domain: the primary key lets only one tenant hold it. Deleting
    // the tenant's domains row frees it (ON DELETE CASCADE).
    await runner.query(`
      CREATE TABLE verified_domains (
        domain text PRIMARY KEY,
        tenant_id uuid NOT NULL,
        domain_id uuid NOT NULL UNIQUE REFERENCES domains (id) ON DELETE CASCADE
      )`);
    await runner.query(
      `COMMENT ON TABLE verified_domains IS 'platform-level: which tenant holds each verified email domain, so that only one tenant can verify a domain and a sign-in can be routed by its email domain before any tenant is known; holds no secrets'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE verified_domains`);
    await runner.query(`DROP TABLE domains`);
  }
}
