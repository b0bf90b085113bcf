import { Inject, Injectable } from '@nestjs/common';
import {
  query,
  Sql,
  statement,
  tenantFrom,
  type PreparedStatement,
  type Statement,
  type TenantQuery,
} from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';

/** What a public identifier is: a login email, an API key prefix, a refresh token id, a user token id. */
export type CredentialKind =
  | 'email'
  | 'api_key'
  | 'refresh_token'
  | 'user_token'
  | 'sso_connection'
  | 'scim_token'
  | 'setup_link'
  | 'passkey';

const TENANTS_OF: PreparedStatement = {
  name: 'credential-lookup.tenants-of',
  text: 'SELECT tenant_id FROM credential_lookup WHERE kind = $1 AND public_id = $2 ORDER BY tenant_id LIMIT 100',
};
const FIRST_TENANT_OF: PreparedStatement = {
  name: 'credential-lookup.first-tenant-of',
  text: 'SELECT tenant_id FROM credential_lookup WHERE kind = $1 AND public_id = $2 ORDER BY tenant_id LIMIT 1',
};
const ADD: PreparedStatement = {
  name: 'credential-lookup.add',
  text: 'INSERT INTO credential_lookup (kind, public_id, tenant_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
};

/**
 * The only code that touches credential_lookup (platform level, no secrets): which tenant(s)
 * a public identifier belongs to, so that a request carrying only that identifier can run
 * everything else under its tenant's row-level security.
 */
@Injectable()
export class CredentialLookupRepository {
  constructor(@Inject(Sql) private readonly sql: Sql) {}

  /** The tenants this identifier belongs to (an email may have accounts in several); one prepared read. */
  async tenantsOf(kind: CredentialKind, publicId: string): Promise<string[]> {
    const rows = await this.sql.rows<{ tenant_id: string }>(TENANTS_OF, [kind, publicId]);
    return rows.map((row) => row.tenant_id);
  }

  /**
   * The first of the tenants the identifier belongs to (as `tenantsOf` orders them), as the
   * tenant a batch runs as (TenantTransactions.batch): one round trip finds the tenant and
   * reads under its row-level security.
   */
  tenantOf(kind: CredentialKind, publicId: string): TenantQuery {
    return tenantFrom(FIRST_TENANT_OF, [kind, publicId]);
  }

  /** `tenantsOf` as a statement of a batch. */
  tenantsOfStatement(kind: CredentialKind, publicId: string): Statement<string[]> {
    return query(TENANTS_OF, [kind, publicId], (rows) =>
      rows.map((row) => row.tenant_id as string),
    );
  }

  /** `add` as a statement of the batch that stores the credential. */
  addStatement(kind: CredentialKind, publicId: string, tenantId: string): Statement {
    return statement(ADD, [kind, publicId, tenantId]);
  }

  /** Records the identifier in the caller's transaction, so it exists exactly when its credential does. */
  async add(
    manager: EntityManager,
    kind: CredentialKind,
    publicId: string,
    tenantId: string,
  ): Promise<void> {
    await manager.query(ADD.text, [kind, publicId, tenantId]);
  }

  /** Forgets identifiers of one tenant, in the caller's transaction. */
  async remove(
    manager: EntityManager,
    kind: CredentialKind,
    publicIds: string[],
    tenantId: string,
  ): Promise<void> {
    if (!publicIds.length) return;
    await manager.query(
      `DELETE FROM credential_lookup WHERE kind = $1 AND public_id = ANY($2::text[]) AND tenant_id = $3`,
      [kind, publicIds, tenantId],
    );
  }
}
