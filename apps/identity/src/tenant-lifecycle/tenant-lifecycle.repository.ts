import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * Every identity table that holds rows of a tenant (a `tenant_id` column), in the order a
 * removal empties them: rows that reference others first. `remove` also finds any table
 * with a tenant_id column missing here (information_schema) and empties it after these,
 * so a table added later is never left behind; the tenant-lifecycle int spec checks that
 * no row of a removed tenant remains in any table.
 */
export const TENANT_TABLES = [
  'scim_group_members',
  'scim_groups',
  'recovery_codes',
  'mfa_totp',
  'passkeys',
  'password_history',
  'refresh_tokens',
  'sessions',
  'user_tokens',
  'users',
  'scim_directories',
  'sso_connections',
  'verified_domains',
  'domains',
  'api_keys',
  'sso_setup_links',
  'auth_settings',
  'tenant_profiles',
  'credential_lookup',
] as const;

/**
 * What an export reads of each table: the columns, none of them a secret, a hash, a
 * private key or a token (password and secret hashes, TOTP secrets, recovery codes, refresh
 * and link tokens, SP private keys, OIDC client secrets, SCIM token ids and hashes, domain
 * verification tokens and the credential lookup stay out), as `<column> AS "<field>"`.
 */
const EXPORTS: Record<string, { table: string; columns: string; order: string }> = {
  tenant_profiles: {
    table: 'tenant_profiles',
    columns: `slug, name, plan, limits, features, roles, settings, admin_user_id AS "adminUserId",
      bootstrap_run_id AS "bootstrapRunId", created_at AS "createdAt", updated_at AS "updatedAt"`,
    order: 'tenant_id',
  },
  auth_settings: {
    table: 'auth_settings',
    columns: `settings, updated_at AS "updatedAt"`,
    order: 'tenant_id',
  },
  users: {
    table: 'users',
    columns: `id, email, display_name AS "displayName", status, roles, mfa_enabled AS "mfaEnabled",
      password_hash IS NOT NULL AS "hasPassword", password_changed_at AS "passwordChangedAt",
      scim_directory_id AS "scimDirectoryId", scim_external_id AS "scimExternalId",
      scim_attributes AS "scimAttributes", created_at AS "createdAt", updated_at AS "updatedAt",
      last_login_at AS "lastLoginAt"`,
    order: 'id',
  },
  mfa_totp: {
    table: 'mfa_totp',
    columns: `user_id AS "userId", confirmed_at AS "confirmedAt", created_at AS "createdAt"`,
    order: 'user_id',
  },
  passkeys: {
    table: 'passkeys',
    columns: `id, user_id AS "userId", name, transports, backed_up AS "backedUp",
      created_at AS "createdAt", last_used_at AS "lastUsedAt"`,
    order: 'id',
  },
  sessions: {
    table: 'sessions',
    columns: `id, user_id AS "userId", amr, auth_time AS "authTime", ip, user_agent AS "userAgent",
      created_at AS "createdAt", last_used_at AS "lastUsedAt", expires_at AS "expiresAt",
      revoked_at AS "revokedAt", revoked_reason AS "revokedReason"`,
    order: 'id',
  },
  api_keys: {
    table: 'api_keys',
    columns: `id, name, prefix, scopes, created_by AS "createdBy", created_at AS "createdAt",
      expires_at AS "expiresAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt",
      rotated_from AS "rotatedFrom"`,
    order: 'id',
  },
  domains: {
    table: 'domains',
    columns: `id, domain, created_at AS "createdAt", verified_at AS "verifiedAt"`,
    order: 'id',
  },
  sso_connections: {
    table: 'sso_connections',
    columns: `id, name, protocol, enabled, jit, default_role AS "defaultRole",
      attribute_mapping AS "attributeMapping", group_roles AS "groupRoles",
      saml_idp_entity_id AS "samlIdpEntityId", saml_idp_sso_url AS "samlIdpSsoUrl",
      saml_idp_certificates AS "samlIdpCertificates", saml_allow_idp_initiated AS "samlAllowIdpInitiated",
      saml_require_encrypted_assertions AS "samlRequireEncryptedAssertions",
      saml_clock_skew_seconds AS "samlClockSkewSeconds", saml_sp_certificate AS "samlSpCertificate",
      oidc_issuer AS "oidcIssuer", oidc_client_id AS "oidcClientId", oidc_scopes AS "oidcScopes",
      created_at AS "createdAt", updated_at AS "updatedAt"`,
    order: 'id',
  },
  scim_directories: {
    table: 'scim_directories',
    columns: `id, name, default_role AS "defaultRole", group_roles AS "groupRoles",
      token_created_at AS "tokenCreatedAt", created_by AS "createdBy", created_at AS "createdAt",
      updated_at AS "updatedAt"`,
    order: 'id',
  },
  scim_groups: {
    table: 'scim_groups',
    columns: `id, directory_id AS "directoryId", display_name AS "displayName",
      external_id AS "externalId", created_at AS "createdAt", updated_at AS "updatedAt"`,
    order: 'id',
  },
  scim_group_members: {
    table: 'scim_group_members',
    columns: `group_id AS "groupId", user_id AS "userId"`,
    order: 'group_id, user_id',
  },
  sso_setup_links: {
    table: 'sso_setup_links',
    columns: `id, created_by AS "createdBy", created_at AS "createdAt", expires_at AS "expiresAt",
      opened_at AS "openedAt", revoked_at AS "revokedAt"`,
    order: 'id',
  },
};

/**
 * The tenant's rows across identity's tables, for the tenant lifecycle: usage, export and
 * removal. Every method runs in the caller's tenant transaction (row-level security shows
 * only the tenant's rows) and still filters by tenant_id (credential_lookup and
 * verified_domains are platform-level tables without row-level security).
 */
@Injectable()
export class TenantLifecycleRepository {
  /** The tenant's identity data, by table (see EXPORTS), oldest first; dates as ISO strings. */
  async export(
    manager: EntityManager,
    tenantId: string,
  ): Promise<Record<string, Record<string, unknown>[]>> {
    const data: Record<string, Record<string, unknown>[]> = {};
    for (const [name, { table, columns, order }] of Object.entries(EXPORTS)) {
      const rows: Record<string, unknown>[] = await manager.query(
        `SELECT ${columns} FROM ${table} WHERE tenant_id = $1 ORDER BY ${order}`,
        [tenantId],
      );
      data[name] = rows.map(plain);
    }
    return data;
  }

  /** The API keys of the tenant that still work (their revocation is announced when they go). */
  async liveApiKeys(
    manager: EntityManager,
    tenantId: string,
  ): Promise<{ id: string; prefix: string }[]> {
    return manager.query(
      `SELECT id, prefix FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL ORDER BY id`,
      [tenantId],
    );
  }

  /** Deletes the tenant's auth settings row (compensation of a bootstrap); returns how many went. */
  async deleteAuthSettings(manager: EntityManager, tenantId: string): Promise<number> {
    const [, affected]: [unknown, number] = await manager.query(
      `DELETE FROM auth_settings WHERE tenant_id = $1`,
      [tenantId],
    );
    return affected;
  }

  /**
   * Deletes every row of the tenant in every table with a tenant_id column (TENANT_TABLES
   * in order, then any other such table the database has); returns the rows deleted per
   * table (every table listed, 0 included).
   */
  async removeAll(manager: EntityManager, tenantId: string): Promise<Record<string, number>> {
    const found = await this.tablesWithTenantId(manager);
    const known: readonly string[] = TENANT_TABLES;
    const tables = [
      ...TENANT_TABLES.filter((table) => found.includes(table)),
      ...found.filter((table) => !known.includes(table)).sort(),
    ];
    const removed: Record<string, number> = {};
    for (const table of tables) {
      const [, affected]: [unknown, number] = await manager.query(
        `DELETE FROM "${table}" WHERE tenant_id = $1`,
        [tenantId],
      );
      removed[table] = affected;
    }
    return removed;
  }

  /** The tables of identity's schema with a tenant_id column. */
  async tablesWithTenantId(manager: EntityManager): Promise<string[]> {
    const rows: { table_name: string }[] = await manager.query(
      `SELECT c.table_name FROM information_schema.columns c
       JOIN information_schema.tables t
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id'
         AND t.table_type = 'BASE TABLE'
       ORDER BY c.table_name`,
    );
    return rows.map((row) => row.table_name);
  }
}

/** A row with its dates as ISO strings (JSON as exported). */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      value instanceof Date ? value.toISOString() : value,
    ]),
  );
}
