import { Inject, Injectable } from '@nestjs/common';
import {
  DEFAULT_AUTH_SETTINGS,
  PLATFORM_TENANT_ID,
  UpdateAuthSettingsBodySchema,
  type AuthSettings,
} from '@tenantry/contracts';
import { addToOutbox, Outbox, TenantTransactions, type Statement } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import { auditEvent } from '../core/audit.js';
import { AuthSettingsErrors } from './auth-settings.errors.js';
import { AuthSettingsRepository, type StoredAuthSettings } from './auth-settings.repository.js';

export type AuthSettingsChange = z.output<typeof UpdateAuthSettingsBodySchema>;

/**
 * The stored fields over the defaults: a field added later gets its default for every
 * tenant. The platform never requires SSO (operators' break-glass password sign-in).
 */
export function effectiveSettings(
  tenantId: string,
  stored: StoredAuthSettings | null,
): AuthSettings {
  const settings = { tenantId, ...DEFAULT_AUTH_SETTINGS, ...stored };
  return tenantId === PLATFORM_TENANT_ID ? { ...settings, ssoRequired: false } : settings;
}

/** A tenant's authentication rules (DEFAULT_AUTH_SETTINGS until it changes one). */
@Injectable()
export class AuthSettingsService {
  constructor(
    @Inject(AuthSettingsRepository) private readonly settings: AuthSettingsRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /** The tenant's settings (defaults for the fields it never set). */
  async get(tenantId: string): Promise<AuthSettings> {
    return effectiveSettings(tenantId, await this.settings.findOne(tenantId));
  }

  /** `get` in the caller's tenant transaction. */
  async getIn(manager: EntityManager, tenantId: string): Promise<AuthSettings> {
    return effectiveSettings(tenantId, await this.settings.find(manager, tenantId));
  }

  /** What the tenant a batch runs as has stored (TenantTransactions.batch; then `effectiveSettings`). */
  storedStatement(): Statement<StoredAuthSettings | null> {
    return this.settings.findStatement();
  }

  /**
   * Sets the given fields in the caller's tenant transaction, keeping the others (no audit:
   * the caller writes its own); returns the settings now in force. For the tenant
   * lifecycle, which applies the tenant's settings (SSO and MFA required, idle timeout).
   */
  async mergeIn(
    manager: EntityManager,
    tenantId: string,
    change: StoredAuthSettings,
  ): Promise<AuthSettings> {
    if (tenantId === PLATFORM_TENANT_ID && change.ssoRequired === true)
      throw AuthSettingsErrors.platformSsoRequired();
    return effectiveSettings(tenantId, await this.settings.merge(manager, tenantId, change));
  }

  /**
   * Changes the given fields, keeps the others; audited (auth-settings.updated) in the
   * same transaction. `ssoRequired: true` is refused for the platform tenant.
   */
  async update(tenantId: string, change: AuthSettingsChange): Promise<AuthSettings> {
    if (tenantId === PLATFORM_TENANT_ID && change.ssoRequired === true)
      throw AuthSettingsErrors.platformSsoRequired();
    const changed = Object.fromEntries(
      Object.entries(change).filter(([, value]) => value !== undefined),
    ) as StoredAuthSettings;
    const updated = await this.tx.run(tenantId, async (manager) => {
      const stored = await this.settings.merge(manager, tenantId, changed);
      await addToOutbox(manager, [
        auditEvent({
          tenantId,
          category: 'auth',
          action: 'auth-settings.updated',
          target: { type: 'tenant', id: tenantId },
          data: { changed },
        }),
      ]);
      return effectiveSettings(tenantId, stored);
    });
    this.outbox.kick();
    return updated;
  }
}
