import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AppError, PLATFORM_TENANT_ID, Roles } from '@tenantry/contracts';
import { addToOutbox, Outbox, TenantTransactions } from '@tenantry/persistence';
import { AuthSettingsService } from '../auth-settings/auth-settings.service.js';
import { auditEvent } from '../core/audit.js';
import { normalizeEmail } from '../core/email.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { PasswordService } from '../passwords/password.service.js';
import { UserEntity } from '../users/user.entity.js';
import { UserRepository } from '../users/user.repository.js';

/** The log line that says the first operator was made (npm start prints the credentials on it). */
export const OPERATOR_CREATED = 'platform operator created';

/**
 * The first platform operator, as Keycloak's bootstrap admin: made at start-up from
 * TENANTRY_ADMIN_EMAIL and TENANTRY_ADMIN_PASSWORD when the platform tenant has no user
 * yet, once however many replicas start together (advisory lock).
 */
@Injectable()
export class OperatorService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Operators');

  constructor(
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(PasswordService) private readonly passwords: PasswordService,
    @Inject(AuthSettingsService) private readonly authSettings: AuthSettingsService,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
    @InjectIdentitySettings() private readonly settings: IdentitySettings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bootstrap();
  }

  /**
   * Creates the first operator (active, role platform-operator, the platform's password
   * policy applied) when there is none and both variables are set; logs OPERATOR_CREATED
   * with the email, never the password. Returns whether it created one.
   */
  async bootstrap(): Promise<boolean> {
    const { adminEmail, adminPassword } = this.settings;
    if (!adminEmail || !adminPassword) {
      const exists = await this.tx.run(PLATFORM_TENANT_ID, (m) => this.users.anyOperator(m));
      if (!exists) {
        this.logger.warn(
          'there is no platform operator: set TENANTRY_ADMIN_EMAIL and TENANTRY_ADMIN_PASSWORD (both) and restart identity',
        );
      }
      return false;
    }
    const email = normalizeEmail(adminEmail);
    const created = await this.tx.run(PLATFORM_TENANT_ID, async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('tenantry.identity.operators'))`);
      if (await this.users.anyOperator(manager)) return false;
      const id = uuidv7();
      const settings = await this.authSettings.getIn(manager, PLATFORM_TENANT_ID);
      const passwordHash = await this.passwords
        .choose(manager, {
          tenantId: PLATFORM_TENANT_ID,
          userId: id,
          password: adminPassword,
          settings,
          field: 'TENANTRY_ADMIN_PASSWORD',
        })
        .catch((error: unknown) => {
          if (!(error instanceof AppError)) throw error;
          throw new Error(`TENANTRY_ADMIN_PASSWORD is refused: ${error.message}`);
        });
      const now = new Date();
      const roles = [Roles.platformOperator];
      await this.users.insert(
        manager,
        Object.assign(new UserEntity(), {
          id,
          tenantId: PLATFORM_TENANT_ID,
          email,
          displayName: 'Platform operator',
          status: 'active' as const,
          roles,
          passwordHash,
          passwordChangedAt: now,
          mfaEnabled: false,
          createdAt: now,
          updatedAt: now,
          lastLoginAt: null,
        }),
      );
      await this.lookup.add(manager, 'email', email, PLATFORM_TENANT_ID);
      await this.passwords.remember(manager, PLATFORM_TENANT_ID, id, passwordHash);
      await addToOutbox(manager, [
        auditEvent({
          tenantId: PLATFORM_TENANT_ID,
          category: 'users',
          action: 'user.created',
          target: { type: 'user', id },
          data: { email, roles, bootstrap: true },
        }),
      ]);
      return true;
    });
    if (created) {
      this.outbox.kick();
      this.logger.log({ email }, OPERATOR_CREATED);
    }
    return created;
  }
}
