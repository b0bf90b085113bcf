import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger's tables beside `audit_events` (audit-design.md): each tenant chain's head,
 * the entry hashes the Merkle trees are built over (never pruned, so proofs outlive
 * retention), the signed checkpoints, the checkpoint signing keys, and `audit_tenants`,
 * the platform-level list of chains the sealing and retention jobs walk.
 */
export class CreateAuditLedgerTables1764500000100 implements MigrationInterface {
  name = 'CreateAuditLedgerTables1764500000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE audit_heads (
        tenant_id uuid PRIMARY KEY,
        seq bigint NOT NULL CHECK (seq >= 1),
        hash bytea NOT NULL CHECK (octet_length(hash) = 32)
      )`);
    await enableTenantRls(runner, 'audit_heads');

    await runner.query(`
      CREATE TABLE audit_leaves (
        tenant_id uuid NOT NULL,
        seq bigint NOT NULL CHECK (seq >= 1),
        hash bytea NOT NULL CHECK (octet_length(hash) = 32),
        PRIMARY KEY (tenant_id, seq)
      )`);
    await enableTenantRls(runner, 'audit_leaves');

    // frontier: the roots of the perfect subtrees the tree of tree_size leaves is made of,
    // largest first, 32 bytes each (one per bit set in tree_size): the next checkpoint's
    // root is computed from it and the leaves added since, not from all the leaves again.
    await runner.query(`
      CREATE TABLE audit_checkpoints (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        tree_size bigint NOT NULL CHECK (tree_size >= 0),
        root_hash bytea NOT NULL CHECK (octet_length(root_hash) = 32),
        issued_at timestamptz NOT NULL,
        key_id text NOT NULL,
        signature text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('checkpoint', 'tombstone')),
        pruned_through_seq bigint,
        frontier bytea NOT NULL,
        PRIMARY KEY (tenant_id, id),
        CHECK ((kind = 'tombstone') = (pruned_through_seq IS NOT NULL))
      )`);
    await runner.query(
      `CREATE INDEX audit_checkpoints_tenant_size ON audit_checkpoints (tenant_id, tree_size DESC)`,
    );
    await runner.query(
      `CREATE INDEX audit_checkpoints_tenant_issued ON audit_checkpoints (tenant_id, issued_at DESC, id DESC)`,
    );
    await enableTenantRls(runner, 'audit_checkpoints');

    await runner.query(`
      CREATE TABLE audit_tenants (
        tenant_id uuid PRIMARY KEY,
        head_seq bigint NOT NULL,
        sealed_seq bigint NOT NULL DEFAULT 0
      )`);
    await runner.query(
      `COMMENT ON TABLE audit_tenants IS 'platform-level: which tenants have an audit chain and how far each is appended and sealed (two counters, no audit content), so that the sealing and retention jobs find their work across tenants'`,
    );

    // Platform level: the checkpoint signing keys (Ed25519). The private key never leaves
    // this database; the public half is served at /v1/audit/keys, forever (old checkpoints
    // stay verifiable), with the time it stopped signing as not_after.
    await runner.query(`
      CREATE TABLE audit_signing_keys (
        key_id text PRIMARY KEY,
        public_key text NOT NULL,
        private_pkcs8 text NOT NULL,
        not_before timestamptz NOT NULL,
        not_after timestamptz
      )`);
    await runner.query(
      `COMMENT ON TABLE audit_signing_keys IS 'platform-level: the Ed25519 keys that sign every tenant''s audit checkpoints (one key for all tenants, rotated with overlap); no tenant data'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'audit_signing_keys',
      'audit_tenants',
      'audit_checkpoints',
      'audit_leaves',
      'audit_heads',
    ]) {
      await runner.query(`DROP TABLE ${table}`);
    }
  }
}
