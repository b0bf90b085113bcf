import { AppError, ErrorCode, SsoSetupErrorReason } from '@tenantry/contracts';

const ASK_AGAIN = "ask your organization's Tenantry admin for a new SSO setup link";

export const SsoSetupErrors = {
  /** Also the answer for another tenant's link: row-level security hides it. */
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `SSO setup link ${id} does not exist`, {
      reason: SsoSetupErrorReason.NotFound,
    }),

  /** Malformed, unknown, or a wrong secret: one answer, so a caller learns nothing. */
  linkInvalid: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      `token: this is not a valid SSO setup link token (copy the whole link); otherwise ${ASK_AGAIN}`,
      { reason: SsoSetupErrorReason.LinkInvalid },
    ),

  /** The holder of the right token learns why it no longer works. */
  linkUsed: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      `this SSO setup link was already opened, and a link works only once: ${ASK_AGAIN}`,
      { reason: SsoSetupErrorReason.LinkUsed },
    ),

  linkExpired: (expiresAt: Date) =>
    new AppError(
      ErrorCode.Unauthenticated,
      `this SSO setup link expired at ${expiresAt.toISOString()}: ${ASK_AGAIN}`,
      { reason: SsoSetupErrorReason.LinkExpired },
    ),

  linkRevoked: () =>
    new AppError(ErrorCode.Unauthenticated, `this SSO setup link was revoked: ${ASK_AGAIN}`, {
      reason: SsoSetupErrorReason.LinkRevoked,
    }),

  /** Missing, unknown, expired, or its link was revoked: one answer. */
  sessionInvalid: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      'the SSO setup session is not valid (missing, expired, or its link was revoked): send ' +
        '`Authorization: Bearer <sessionToken>` from POST /v1/sso-setup/session; a session lasts ' +
        `at most an hour and its link opens only once, so when it has ended ${ASK_AGAIN}`,
      { reason: SsoSetupErrorReason.SessionInvalid },
    ),
};
