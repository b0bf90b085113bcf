import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons an auth settings change fails; clients may rely on them (`reason` in the problem). */
export enum AuthSettingsErrorReason {
  PlatformSsoRequired = 'AUTH_SETTINGS_PLATFORM_SSO_REQUIRED',
}

export const AuthSettingsErrors = {
  /** Operators sign in with a password as the break-glass path when a tenant's SSO fails. */
  platformSsoRequired: () =>
    new AppError(
      ErrorCode.ValidationFailed,
      'ssoRequired cannot be turned on for the platform: operators keep password sign-in as the break-glass path',
      { reason: AuthSettingsErrorReason.PlatformSsoRequired, field: 'ssoRequired' },
    ),
};
