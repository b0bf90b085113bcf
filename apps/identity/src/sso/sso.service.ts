import { domainToASCII } from 'node:url';
import { Inject, Injectable } from '@nestjs/common';
import {
  Roles,
  type AuthSettings,
  type ClientInfo,
  type OidcCallbackRequestSchema,
  type SamlAcsRequestSchema,
  type SsoConnection,
  type SsoDiscoverRequestSchema,
  type SsoDiscoverResult,
  type SsoStartRequestSchema,
  type SsoTokenRequestSchema,
  type TokenSet,
} from '@tenantry/contracts';
import { addToOutbox, TenantTransactions } from '@tenantry/persistence';
import type { z } from 'zod';
import { AuthSettingsService } from '../auth-settings/auth-settings.service.js';
import { LoginService } from '../auth/login.service.js';
import { RequestThrottle } from '../auth/request-throttle.js';
import { auditEvent, SYSTEM_ACTOR } from '../core/audit.js';
import { AuditWriter } from '../core/audit-writer.js';
import { normalizeEmail } from '../core/email.js';
import { sha256Hex } from '../core/secret-token.js';
import { TenantDirectory } from '../core/tenant-directory.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { DomainService } from '../domains/domain.service.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { OidcLogin } from '../oidc/oidc-login.js';
import { SamlLogin } from '../saml/saml-login.js';
import { SsoConnectionService } from '../sso-connections/sso-connection.service.js';
import { TenantGate } from '../auth/tenant-gate.js';
import { TenantLifecycleErrorReason } from '../tenant-lifecycle/tenant-lifecycle.errors.js';
import { TenantQuotas } from '../tenant-lifecycle/tenant-quotas.js';
import { newUser, UserEntity } from '../users/user.entity.js';
import { UserRepository } from '../users/user.repository.js';
import {
  mappedRoles,
  oidcProfile,
  samlProfile,
  type FederatedProfile,
} from './federated-profile.js';
import { allowedReturnTo, withCode } from './return-to.js';
import { SsoCodeStore } from './sso-code.store.js';
import { SsoErrors } from './sso.errors.js';
import { SsoRejected } from './sso.types.js';

type DiscoverRequest = z.output<typeof SsoDiscoverRequestSchema>;
type StartRequest = z.output<typeof SsoStartRequestSchema>;
type AcsRequest = z.output<typeof SamlAcsRequestSchema>;
type CallbackRequest = z.output<typeof OidcCallbackRequestSchema>;
type TokenRequest = z.output<typeof SsoTokenRequestSchema>;
/** How many SSO requests per IP count as one password attempt of the login budget. */
const SSO_REQUESTS_PER_LOGIN_ATTEMPT = 10;

type SignInRecord = NonNullable<Awaited<ReturnType<SsoConnectionService['forSignIn']>>>;

/** A completed SSO sign-in: where the browser goes, with the one-time code in its query. */
export interface SsoCompleted {
  redirectTo: string;
  code: string;
}

/**
 * Single sign-on through a tenant's SAML and OIDC connections: home-realm discovery, the
 * SP-initiated start, the completion (SAML ACS, OIDC callback) and the code exchange.
 * The protocol modules check the messages; this service decides who the person is in the
 * tenant: their email must be in one of the tenant's verified domains (so a rogue IdP of
 * one tenant cannot sign in another tenant's users), they are created just in time when
 * the connection allows it, their roles follow the connection's group mapping, and every
 * refusal is audited with its reason and creates no session.
 */
@Injectable()
export class SsoService {
  constructor(
    @Inject(SsoConnectionService) private readonly connections: SsoConnectionService,
    @Inject(SamlLogin) private readonly saml: SamlLogin,
    @Inject(OidcLogin) private readonly oidc: OidcLogin,
    @Inject(DomainService) private readonly domains: DomainService,
    @Inject(AuthSettingsService) private readonly authSettings: AuthSettingsService,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(LoginService) private readonly login: LoginService,
    @Inject(SsoCodeStore) private readonly codes: SsoCodeStore,
    @Inject(RequestThrottle) private readonly throttle: RequestThrottle,
    @Inject(AuditWriter) private readonly audit: AuditWriter,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(TenantGate) private readonly gate: TenantGate,
    @Inject(TenantQuotas) private readonly quotas: TenantQuotas,
    @InjectIdentitySettings() private readonly settings: IdentitySettings,
  ) {}

  /** Where this email signs in: its domain's tenant (verified domains only) and connections. */
  async discover(request: DiscoverRequest): Promise<SsoDiscoverResult> {
    await this.throttle.perIp('sso', request.client.ip, this.perMinute);
    const domain = emailDomain(normalizeEmail(request.email));
    const tenantId = domain ? await this.domains.verifiedTenantOf(domain) : null;
    if (!tenantId) return { method: 'password', tenant: null, ssoRequired: false, connections: [] };
    const [tenant, settings, enabled] = await Promise.all([
      this.tenants.byId(tenantId),
      this.authSettings.get(tenantId),
      this.connections.listEnabled(tenantId),
    ]);
    return {
      method: enabled.length ? 'sso' : 'password',
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      ssoRequired: settings.ssoRequired,
      connections: enabled.map((c) => ({
        id: c.id,
        name: c.name,
        protocol: c.protocol,
        loginUrl: c.loginUrl,
      })),
    };
  }

  /** The IdP URL that starts an SP-initiated sign-in; `returnTo` must be an allowed origin. */
  async start(request: StartRequest): Promise<{ redirectUrl: string }> {
    await this.throttle.perIp('sso', request.client.ip, this.perMinute);
    const record = await this.usable(request.connectionId, request.client);
    if (request.returnTo !== undefined) {
      const settings = await this.authSettings.get(record.connection.tenantId);
      if (!this.returnTarget(request.returnTo, settings))
        throw SsoErrors.returnToNotAllowed(request.returnTo);
    }
    return record.saml
      ? this.saml.start(record.saml, request.returnTo)
      : this.oidc.start(record.oidc!, request.returnTo);
  }

  /** The SAML ACS: the response checked by the SAML module, then the person signed in. */
  async samlAcs(request: AcsRequest): Promise<SsoCompleted> {
    await this.throttle.perIp('sso', request.client.ip, this.perMinute);
    const record = await this.usable(request.connectionId, request.client);
    if (!record.saml) throw SsoErrors.connectionNotFound();
    const flow = await this.checked(record.connection, 'SAML', request.client, () =>
      this.saml.complete(record.saml!, request.samlResponse, request.relayState),
    );
    const profile = samlProfile(flow.identity, record.connection.attributeMapping);
    return this.complete(record.connection, profile, ['saml'], request.client, {
      returnTo: flow.returnTo ?? (flow.idpInitiated ? flow.relayState : undefined),
      idpInitiated: flow.idpInitiated,
    });
  }

  /** The OIDC redirect back: the code exchanged and the id_token checked, then the person signed in. */
  async oidcCallback(request: CallbackRequest): Promise<SsoCompleted> {
    await this.throttle.perIp('sso', request.client.ip, this.perMinute);
    const record = await this.usable(request.connectionId, request.client);
    if (!record.oidc) throw SsoErrors.connectionNotFound();
    const flow = await this.checked(record.connection, 'OIDC', request.client, () =>
      this.oidc.complete(record.oidc!, request.query),
    );
    const profile = oidcProfile(flow.identity, record.connection.attributeMapping);
    const amr = claimedMfa(flow.identity.claims['amr']) ? ['oidc', 'mfa'] : ['oidc'];
    return this.complete(record.connection, profile, amr, request.client, {
      returnTo: flow.returnTo,
      idpInitiated: false,
    });
  }

  /** The tokens of a completed sign-in, for its one-time code. */
  async token(request: TokenRequest): Promise<TokenSet> {
    await this.throttle.perIp('sso', request.client.ip, this.perMinute);
    const tokens = await this.codes.collect(request.code);
    if (!tokens) throw SsoErrors.codeInvalid();
    return tokens;
  }

  /**
   * The connection, enabled, of a tenant whose users may sign in; a disabled one, or one of
   * a barred tenant (suspended, being deleted, ...), is refused (and audited).
   */
  private async usable(connectionId: string, client: ClientInfo): Promise<SignInRecord> {
    const record = await this.connections.forSignIn(connectionId);
    if (!record) throw SsoErrors.connectionNotFound();
    if (!record.connection.enabled) {
      await this.refused(record.connection, client, 'connection_disabled', {});
      throw SsoErrors.connectionDisabled();
    }
    const barred = await this.gate.refusal(record.connection.tenantId);
    if (barred) {
      await this.refused(record.connection, client, 'tenant_barred', { refusal: barred.reason });
      throw barred;
    }
    return record;
  }

  /** Runs a protocol's checks; a refusal is audited with its reason and answered in words. */
  private async checked<T>(
    connection: SsoConnection,
    protocol: 'SAML' | 'OIDC',
    client: ClientInfo,
    check: () => Promise<T>,
  ): Promise<T> {
    try {
      return await check();
    } catch (error) {
      if (!(error instanceof SsoRejected)) throw error;
      await this.refused(connection, client, error.reason, { detail: error.message });
      throw SsoErrors.rejected(protocol, error.message);
    }
  }

  /**
   * The person the IdP vouched for, in the connection's tenant: email required and in a
   * verified domain of the tenant; found, or created when JIT is on; not disabled; roles
   * from the mapping when the connection has one (but for users of a SCIM directory, whose
   * roles the directory gives). Then a session, and a one-time code.
   */
  private async complete(
    connection: SsoConnection,
    profile: FederatedProfile,
    amr: string[],
    client: ClientInfo,
    flow: { returnTo: string | undefined; idpInitiated: boolean },
  ): Promise<SsoCompleted> {
    const { tenantId } = connection;
    const subject = { subject: profile.subject };
    if (!profile.email) {
      await this.refused(connection, client, 'email_missing', subject);
      throw SsoErrors.emailMissing();
    }
    const email = normalizeEmail(profile.email);
    const who = { ...subject, emailSha256: sha256Hex(email) };
    const domain = emailDomain(email);
    if (!domain || !(await this.domains.isVerified(tenantId, domain))) {
      await this.refused(connection, client, 'domain_not_verified', { ...who, domain });
      throw SsoErrors.domainNotVerified(domain ?? email);
    }
    const settings = await this.authSettings.get(tenantId);
    const target = this.landing(flow.returnTo, settings);
    const user = await this.provisioned(connection, profile, email, client, who);
    const tokens = await this.login.signIn({ tenantId, user, settings }, amr, new Date(), client);
    const code = await this.codes.issue(tokens);
    return { redirectTo: withCode(target, code), code };
  }

  /** The user signing in: existing (activated, roles synced) or created just in time. */
  private async provisioned(
    connection: SsoConnection,
    profile: FederatedProfile,
    email: string,
    client: ClientInfo,
    who: Record<string, unknown>,
  ): Promise<UserEntity> {
    const { tenantId } = connection;
    const mapping = connection.defaultRole !== null || connection.groupRoles.length > 0;
    const roles = mappedRoles(connection.defaultRole, connection.groupRoles, profile.groups).filter(
      (role) => role !== Roles.platformOperator,
    );
    const outcome = await this.tx.run(tenantId, async (manager) => {
      const existing = await this.users.findByEmail(manager, tenantId, email);
      if (existing) {
        if (existing.status === 'disabled') return 'disabled' as const;
        const change: Partial<Pick<UserEntity, 'roles' | 'status'>> = {};
        if (existing.status === 'invited') change.status = 'active';
        // A user of a SCIM directory has the roles the directory gives (its group mapping).
        const managed = (await this.users.directoryOf(manager, tenantId, existing.id)) !== null;
        if (mapping && !managed && !sameSet(existing.roles, roles)) change.roles = roles;
        if (Object.keys(change).length) {
          await this.users.update(manager, tenantId, existing.id, change);
          await addToOutbox(manager, [
            auditEvent(
              {
                tenantId,
                category: 'users',
                action: 'user.updated',
                target: { type: 'user', id: existing.id },
                data: { via: 'sso', connectionId: connection.id, ...change },
              },
              `user:${existing.id}`,
            ),
          ]);
        }
        return Object.assign(existing, change);
      }
      if (!connection.jit) return 'unknown' as const;
      try {
        await this.quotas.checkUsers(manager, tenantId);
      } catch (error) {
        if ((error as { reason?: string }).reason !== TenantLifecycleErrorReason.QuotaExceeded)
          throw error;
        return { refusal: error as Error };
      }
      const user = newUser({
        tenantId,
        email,
        displayName: profile.displayName ?? email,
        status: 'active',
        roles: roles.length ? roles : [Roles.member],
      });
      // A concurrent first sign-in of the same person created them: use theirs.
      if (!(await this.users.insert(manager, user)))
        return (await this.users.findByEmail(manager, tenantId, email))!;
      await this.lookup.add(manager, 'email', email, tenantId);
      await addToOutbox(manager, [
        auditEvent(
          {
            tenantId,
            category: 'users',
            action: 'user.provisioned',
            target: { type: 'user', id: user.id },
            data: { via: 'sso', connectionId: connection.id, email, roles: user.roles },
          },
          SYSTEM_ACTOR,
        ),
      ]);
      return user;
    });
    if (outcome === 'disabled') {
      await this.refused(connection, client, 'user_disabled', who);
      throw SsoErrors.userDisabled();
    }
    if (outcome === 'unknown') {
      await this.refused(connection, client, 'user_unknown', who);
      throw SsoErrors.userUnknown();
    }
    if ('refusal' in outcome) {
      await this.refused(connection, client, 'quota_exceeded', who);
      throw outcome.refusal;
    }
    return outcome;
  }

  /** The allowed URL to return to, or the app URL when none was asked for or it is not allowed. */
  private landing(returnTo: string | undefined, settings: AuthSettings): URL {
    return (
      (returnTo !== undefined ? this.returnTarget(returnTo, settings) : null) ??
      new URL(this.settings.appUrl)
    );
  }

  private returnTarget(returnTo: string, settings: AuthSettings): URL | null {
    return allowedReturnTo(returnTo, settings.redirectOrigins, this.settings.appUrl);
  }

  private refused(
    connection: SsoConnection,
    client: ClientInfo,
    reason: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record([
      auditEvent(
        {
          tenantId: connection.tenantId,
          category: 'auth',
          action: 'sso.login.failed',
          outcome: 'failure',
          target: { type: 'sso_connection', id: connection.id },
          data: {
            reason,
            protocol: connection.protocol,
            ...data,
            ip: client.ip,
            ...(client.userAgent ? { userAgent: client.userAgent } : {}),
          },
        },
        SYSTEM_ACTOR,
      ),
    ]);
  }

  /**
   * SSO requests one client IP may make per minute: ten times the password login budget.
   * A whole company signs in through its IdP, often from behind one NAT, with three
   * requests per sign-in (start, ACS or callback, code exchange); the IdP's signature, not a
   * guessable secret, is what an SSO sign-in proves, so the limit only stops floods.
   */
  private get perMinute(): number {
    return this.settings.loginAttemptsPerIpPerMinute * SSO_REQUESTS_PER_LOGIN_ATTEMPT;
  }
}

/** The ASCII (punycode) domain of a normalized email; null when it has none. */
function emailDomain(email: string): string | null {
  const at = email.lastIndexOf('@');
  if (at < 1) return null;
  return domainToASCII(email.slice(at + 1)) || null;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Whether an OIDC `amr` claim says a second factor was used. */
function claimedMfa(amr: unknown): boolean {
  return Array.isArray(amr) && amr.some((m) => ['mfa', 'otp', 'hwk', 'swk'].includes(String(m)));
}
