import { uuidv7 } from '@tenantry/runtime';
import { X509Certificate } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { generateServiceProviderMetadata } from '@node-saml/passport-saml';
import {
  Cursor,
  UuidSchema,
  type RpcPayload,
  type RpcResponse,
  type SsoConnection,
  type SsoConnectionRpc,
} from '@tenantry/contracts';
import { Outbox, type OutboxMessage } from '@tenantry/persistence';
import { z } from 'zod';
import { auditEvent } from '../core/audit.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { TenantQuotas } from '../tenant-lifecycle/tenant-quotas.js';
import type { OidcConnectionConfig, SamlConnectionConfig } from '../sso/sso.types.js';
import { resolveIdp } from './saml-idp.js';
import { generateSpKeyPair } from './sp-key-pair.js';
import { SsoConnectionEntity } from './sso-connection.entity.js';
import { SsoConnectionErrors } from './sso-connection.errors.js';
import { SsoConnectionRepository } from './sso-connection.repository.js';

type Request<K extends keyof typeof SsoConnectionRpc> = RpcPayload<(typeof SsoConnectionRpc)[K]>;

const SsoConnectionCursor = z.tuple([UuidSchema]);

/** Scopes of an OIDC connection that names none. */
export const DEFAULT_OIDC_SCOPES = ['openid', 'email', 'profile'];
/** NotBefore / NotOnOrAfter tolerance of a SAML connection that names none. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

/** A connection with everything its sign-in needs (secrets included): `SsoConnectionService.forSignIn`. */
export interface SsoConnectionForSignIn {
  connection: SsoConnection;
  /** Set for a SAML connection. */
  saml: SamlConnectionConfig | null;
  /** Set for an OIDC connection. */
  oidc: OidcConnectionConfig | null;
}

/** The public URLs of a connection, all under the gateway's public URL (TENANTRY_ISSUER). */
export interface SsoConnectionUrls {
  /** The SP entity id, which is also where its metadata is served. */
  spEntityId: string;
  acsUrl: string;
  metadataUrl: string;
  /** Starts a sign-in (GET). */
  loginUrl: string;
  /** OIDC: the redirect URI to register at the provider. */
  redirectUri: string;
}

/** The URLs of connection `id` under `issuer` (the gateway's public URL, without trailing slash). */
export function connectionUrls(issuer: string, id: string): SsoConnectionUrls {
  const spEntityId = `${issuer}/v1/auth/sso/saml/${id}/metadata`;
  return {
    spEntityId,
    acsUrl: `${issuer}/v1/auth/sso/saml/${id}/acs`,
    metadataUrl: spEntityId,
    loginUrl: `${issuer}/v1/auth/sso/${id}/login`,
    redirectUri: `${issuer}/v1/auth/sso/oidc/${id}/callback`,
  };
}

/** The scopes to ask for: the default when none, each once; `openid` is required. */
function oidcScopes(scopes: string[] | undefined): string[] {
  const unique = [...new Set(scopes ?? DEFAULT_OIDC_SCOPES)];
  if (!unique.includes('openid')) throw SsoConnectionErrors.scopesWithoutOpenid();
  return unique;
}

/**
 * A tenant's SSO connections (SAML 2.0 and OIDC): create, read, change, delete (each change
 * audited through the outbox, without secrets), the SP metadata of a SAML connection, and
 * what the sign-in flows need (`forSignIn`, `listEnabled`).
 */
@Injectable()
export class SsoConnectionService {
  constructor(
    @Inject(SsoConnectionRepository) private readonly connections: SsoConnectionRepository,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
    @InjectIdentitySettings() private readonly settings: Pick<IdentitySettings, 'issuer'>,
    @Inject(TenantQuotas) private readonly quotas: TenantQuotas,
  ) {}

  /**
   * Creates a connection. SAML: the IdP from its metadata (uploaded, or fetched once from
   * a URL) or from its three fields, and a fresh SP key pair. OIDC: the provider and the
   * client's credentials. Enabled unless `enabled: false`; JIT provisioning off unless
   * `jit: true`. Audited (sso_connection.created). Refused when the tenant's plan lacks the
   * `sso` feature (403 FEATURE_NOT_IN_PLAN) or the tenant is at its `ssoConnections` limit
   * (409 QUOTA_EXCEEDED): checked first, and again under the tenant's lock as it is stored.
   */
  async create(request: Request<'create'>): Promise<SsoConnection> {
    await this.quotas.precheckSsoConnections(request.tenantId);
    const id = uuidv7();
    const now = new Date();
    const entity = Object.assign(new SsoConnectionEntity(), {
      id,
      tenantId: request.tenantId,
      name: request.name,
      protocol: request.protocol,
      enabled: request.enabled ?? true,
      jit: request.jit ?? false,
      defaultRole: request.defaultRole ?? null,
      attributeMapping: request.attributeMapping ?? {},
      groupRoles: request.groupRoles ?? [],
      ...NO_SAML,
      ...NO_OIDC,
      createdAt: now,
      updatedAt: now,
    });
    if (request.protocol === 'saml') {
      const { saml } = request;
      const idp = await resolveIdp(saml.idp, 'saml.idp');
      const sp = await generateSpKeyPair(this.urls(id).spEntityId, now);
      Object.assign(entity, {
        samlIdpEntityId: idp.entityId,
        samlIdpSsoUrl: idp.ssoUrl,
        samlIdpCertificates: idp.certificates,
        samlAllowIdpInitiated: saml.allowIdpInitiated ?? false,
        samlRequireEncryptedAssertions: saml.requireEncryptedAssertions ?? false,
        samlClockSkewSeconds: saml.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
        samlSpPrivateKey: sp.privateKey,
        samlSpCertificate: sp.certificate,
      });
    } else {
      const { oidc } = request;
      Object.assign(entity, {
        oidcIssuer: oidc.issuer,
        oidcClientId: oidc.clientId,
        oidcClientSecret: oidc.clientSecret,
        oidcScopes: oidcScopes(oidc.scopes),
      });
    }
    await this.connections.insert(
      entity,
      [this.audit('sso_connection.created', entity, { after: auditView(entity) })],
      (manager) => this.quotas.checkSsoConnections(manager, entity.tenantId),
    );
    this.outbox.kick();
    return this.toContract(entity);
  }

  async get({ tenantId, connectionId }: Request<'get'>): Promise<SsoConnection> {
    const entity = await this.connections.findById(tenantId, connectionId);
    if (!entity) throw SsoConnectionErrors.notFound(connectionId);
    return this.toContract(entity);
  }

  /** Oldest first (ids are UUIDv7); the cursor is the last id of the previous page. */
  async list({
    tenantId,
    limit,
    cursor,
  }: Request<'list'>): Promise<RpcResponse<typeof SsoConnectionRpc.list>> {
    const after = cursor ? Cursor.decode(cursor, SsoConnectionCursor)[0] : undefined;
    const rows = await this.connections.list(tenantId, limit + 1, after);
    const page = rows.slice(0, limit);
    return {
      items: page.map((row) => this.toContract(row)),
      nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.id]) : null,
    };
  }

  /**
   * Changes the fields given. `saml.idp` replaces the IdP (new metadata, rotated
   * certificates); `oidc.clientSecret` replaces the secret. The protocol never changes:
   * settings of the other protocol are refused. Audited (sso_connection.updated, before
   * and after, without secrets) when something changed.
   */
  async update(request: Request<'update'>): Promise<SsoConnection> {
    const { tenantId, connectionId } = request;
    const existing = await this.connections.findById(tenantId, connectionId);
    if (!existing) throw SsoConnectionErrors.notFound(connectionId);
    if (request.saml && existing.protocol !== 'saml')
      throw SsoConnectionErrors.protocolMismatch('saml', existing.protocol);
    if (request.oidc && existing.protocol !== 'oidc')
      throw SsoConnectionErrors.protocolMismatch('oidc', existing.protocol);
    // Fetched and checked before the transaction: no network while a row is locked.
    const idp = request.saml?.idp ? await resolveIdp(request.saml.idp, 'saml.idp') : undefined;
    const scopes = request.oidc?.scopes && oidcScopes(request.oidc.scopes);
    let changedNow = false;

    const updated = await this.connections.update(tenantId, connectionId, (current) => {
      if (!current) throw SsoConnectionErrors.notFound(connectionId);
      const next = Object.assign(new SsoConnectionEntity(), current);
      const set = <K extends keyof SsoConnectionEntity>(
        key: K,
        value: SsoConnectionEntity[K] | undefined,
      ) => {
        if (value !== undefined) next[key] = value;
      };
      set('name', request.name);
      set('enabled', request.enabled);
      set('jit', request.jit);
      set('defaultRole', request.defaultRole);
      set('attributeMapping', request.attributeMapping);
      set('groupRoles', request.groupRoles);
      if (idp) {
        next.samlIdpEntityId = idp.entityId;
        next.samlIdpSsoUrl = idp.ssoUrl;
        next.samlIdpCertificates = idp.certificates;
      }
      set('samlAllowIdpInitiated', request.saml?.allowIdpInitiated);
      set('samlRequireEncryptedAssertions', request.saml?.requireEncryptedAssertions);
      set('samlClockSkewSeconds', request.saml?.clockSkewSeconds);
      set('oidcIssuer', request.oidc?.issuer);
      set('oidcClientId', request.oidc?.clientId);
      set('oidcClientSecret', request.oidc?.clientSecret);
      set('oidcScopes', scopes);

      const before = auditView(current);
      const after = auditView(next);
      const changed = Object.keys(after).filter(
        (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
      );
      if (next.oidcClientSecret !== current.oidcClientSecret) changed.push('oidc.clientSecret');
      if (!changed.length) return { next: current, events: [] };
      next.updatedAt = new Date();
      changedNow = true;
      return {
        next,
        events: [this.audit('sso_connection.updated', next, { changed, before, after })],
      };
    });
    if (changedNow) this.outbox.kick();
    return this.toContract(updated);
  }

  /** Deletes a connection (its sign-in URLs stop working at once). Audited (sso_connection.deleted). */
  async delete({
    tenantId,
    connectionId,
  }: Request<'delete'>): Promise<RpcResponse<typeof SsoConnectionRpc.delete>> {
    const deleted = await this.connections.delete(tenantId, connectionId, (current) => [
      this.audit('sso_connection.deleted', current, { before: auditView(current) }),
    ]);
    if (!deleted) throw SsoConnectionErrors.notFound(connectionId);
    this.outbox.kick();
    return { deleted: true };
  }

  /**
   * The SP metadata of a SAML connection (by its id alone: it is public), generated by
   * node-saml: the SP certificate as signing and encryption key, the ACS (HTTP-POST),
   * AuthnRequestsSigned and WantAssertionsSigned. Not found for an OIDC connection.
   */
  async spMetadata({
    connectionId,
  }: Request<'spMetadata'>): Promise<RpcResponse<typeof SsoConnectionRpc.spMetadata>> {
    const found = await this.forSignIn(connectionId);
    if (!found?.saml) throw SsoConnectionErrors.notFound(connectionId);
    const { sp } = found.saml;
    const xml = generateServiceProviderMetadata({
      issuer: sp.entityId,
      callbackUrl: sp.acsUrl,
      privateKey: sp.privateKey,
      publicCerts: sp.certificate,
      decryptionPvk: sp.privateKey,
      decryptionCert: sp.certificate,
      wantAssertionsSigned: true,
      // The same document every time (the default ID is random).
      generateUniqueId: () => `_${connectionId.replace(/-/g, '')}`,
    });
    return { xml };
  }

  /**
   * For the sign-in flows: the connection by its id alone (the ACS, callback and login URLs
   * carry only that), found through credential_lookup and read under its tenant's
   * row-level security, with its protocol's configuration, secrets included (they never
   * leave identity). Null when unknown. Disabled connections are returned too: the caller
   * refuses them.
   */
  async forSignIn(connectionId: string): Promise<SsoConnectionForSignIn | null> {
    const tenants = await this.lookup.tenantsOf('sso_connection', connectionId);
    if (tenants.length !== 1) return null;
    const entity = await this.connections.findById(tenants[0]!, connectionId);
    if (!entity) return null;
    return {
      connection: this.toContract(entity),
      saml: this.samlConfig(entity),
      oidc: this.oidcConfig(entity),
    };
  }

  /** The tenant's enabled connections, oldest first (the sign-in page's choices). */
  async listEnabled(tenantId: string): Promise<SsoConnection[]> {
    const rows = await this.connections.listEnabled(tenantId);
    return rows.map((row) => this.toContract(row));
  }

  private urls(id: string): SsoConnectionUrls {
    return connectionUrls(this.settings.issuer, id);
  }

  private samlConfig(entity: SsoConnectionEntity): SamlConnectionConfig | null {
    if (entity.protocol !== 'saml') return null;
    const urls = this.urls(entity.id);
    return {
      id: entity.id,
      tenantId: entity.tenantId,
      idp: {
        entityId: entity.samlIdpEntityId!,
        ssoUrl: entity.samlIdpSsoUrl!,
        certificates: entity.samlIdpCertificates!,
      },
      sp: {
        entityId: urls.spEntityId,
        acsUrl: urls.acsUrl,
        privateKey: entity.samlSpPrivateKey!,
        certificate: entity.samlSpCertificate!,
      },
      allowIdpInitiated: entity.samlAllowIdpInitiated!,
      requireEncryptedAssertions: entity.samlRequireEncryptedAssertions!,
      clockSkewSeconds: entity.samlClockSkewSeconds!,
    };
  }

  private oidcConfig(entity: SsoConnectionEntity): OidcConnectionConfig | null {
    if (entity.protocol !== 'oidc') return null;
    return {
      id: entity.id,
      tenantId: entity.tenantId,
      issuer: entity.oidcIssuer!,
      clientId: entity.oidcClientId!,
      clientSecret: entity.oidcClientSecret!,
      scopes: entity.oidcScopes!,
      redirectUri: this.urls(entity.id).redirectUri,
    };
  }

  /** The connection as clients see it: no SP private key, no client secret. */
  private toContract(entity: SsoConnectionEntity): SsoConnection {
    const urls = this.urls(entity.id);
    const saml = this.samlConfig(entity);
    const oidc = this.oidcConfig(entity);
    return {
      id: entity.id,
      tenantId: entity.tenantId,
      name: entity.name,
      protocol: entity.protocol,
      enabled: entity.enabled,
      jit: entity.jit,
      defaultRole: entity.defaultRole,
      attributeMapping: entity.attributeMapping,
      groupRoles: entity.groupRoles,
      loginUrl: urls.loginUrl,
      saml: saml && {
        idp: saml.idp,
        sp: {
          entityId: saml.sp.entityId,
          acsUrl: saml.sp.acsUrl,
          metadataUrl: urls.metadataUrl,
          certificate: saml.sp.certificate,
        },
        allowIdpInitiated: saml.allowIdpInitiated,
        requireEncryptedAssertions: saml.requireEncryptedAssertions,
        clockSkewSeconds: saml.clockSkewSeconds,
      },
      oidc: oidc && {
        issuer: oidc.issuer,
        clientId: oidc.clientId,
        clientSecretSet: oidc.clientSecret.length > 0,
        scopes: oidc.scopes,
        redirectUri: oidc.redirectUri,
      },
      createdAt: entity.createdAt.toISOString(),
      updatedAt: entity.updatedAt.toISOString(),
    };
  }

  /** An audit entry about a connection (category auth); the actor comes from the request context. */
  private audit(
    action: string,
    entity: SsoConnectionEntity,
    data: Record<string, unknown>,
  ): OutboxMessage {
    return auditEvent({
      tenantId: entity.tenantId,
      category: 'auth',
      action,
      target: { type: 'sso_connection', id: entity.id },
      data,
    });
  }
}

const NO_SAML = {
  samlIdpEntityId: null,
  samlIdpSsoUrl: null,
  samlIdpCertificates: null,
  samlAllowIdpInitiated: null,
  samlRequireEncryptedAssertions: null,
  samlClockSkewSeconds: null,
  samlSpPrivateKey: null,
  samlSpCertificate: null,
} satisfies Partial<SsoConnectionEntity>;

const NO_OIDC = {
  oidcIssuer: null,
  oidcClientId: null,
  oidcClientSecret: null,
  oidcScopes: null,
} satisfies Partial<SsoConnectionEntity>;

/** SHA-256 fingerprint of a PEM certificate (as `openssl x509 -fingerprint -sha256`). */
function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/**
 * A connection as the audit log keeps it: every setting, certificates as fingerprints,
 * never the SP private key nor the client secret (only whether one is set).
 */
export function auditView(entity: SsoConnectionEntity): Record<string, unknown> {
  return {
    name: entity.name,
    protocol: entity.protocol,
    enabled: entity.enabled,
    jit: entity.jit,
    defaultRole: entity.defaultRole,
    attributeMapping: entity.attributeMapping,
    groupRoles: entity.groupRoles,
    ...(entity.protocol === 'saml'
      ? {
          saml: {
            idpEntityId: entity.samlIdpEntityId,
            idpSsoUrl: entity.samlIdpSsoUrl,
            idpCertificates: (entity.samlIdpCertificates ?? []).map(fingerprint),
            spCertificate: entity.samlSpCertificate && fingerprint(entity.samlSpCertificate),
            allowIdpInitiated: entity.samlAllowIdpInitiated,
            requireEncryptedAssertions: entity.samlRequireEncryptedAssertions,
            clockSkewSeconds: entity.samlClockSkewSeconds,
          },
        }
      : {}),
    ...(entity.protocol === 'oidc'
      ? {
          oidc: {
            issuer: entity.oidcIssuer,
            clientId: entity.oidcClientId,
            clientSecretSet: Boolean(entity.oidcClientSecret),
            scopes: entity.oidcScopes,
          },
        }
      : {}),
  };
}
