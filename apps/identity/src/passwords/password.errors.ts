import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a new password is refused; clients may rely on them (`reason` in the problem). */
export enum PasswordErrorReason {
  TooShort = 'PASSWORD_TOO_SHORT',
  TooCommon = 'PASSWORD_TOO_COMMON',
  Reused = 'PASSWORD_REUSED',
}

/** `field` names the request field that carried the password (`password`, `newPassword`). */
export const PasswordErrors = {
  tooShort: (field: string, minLength: number) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `the password must have at least ${minLength} characters; a few unrelated words make a long one that is easy to remember`,
      { reason: PasswordErrorReason.TooShort, field },
    ),

  tooCommon: (field: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      'this password is on the list of the most common (breached) passwords; choose another',
      { reason: PasswordErrorReason.TooCommon, field },
    ),

  reused: (field: string, count: number) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `the password must differ from your last ${count} password${count === 1 ? '' : 's'}; choose a new one`,
      { reason: PasswordErrorReason.Reused, field },
    ),
};

/** Reasons a password attempt is refused before the password is looked at. */
export enum AttemptErrorReason {
  AccountLocked = 'ACCOUNT_LOCKED',
  TooManyAttempts = 'TOO_MANY_ATTEMPTS',
  Unavailable = 'AUTH_STORE_UNAVAILABLE',
}

export const AttemptErrors = {
  /** More checks of this account's password at once than its lockout threshold allows: not a failure. */
  tooManyAttempts: (retryAfterSeconds: number) =>
    new AppError(
      ErrorCode.RateLimited,
      'too many sign-in attempts for this account at the same moment; try again in a second',
      { reason: AttemptErrorReason.TooManyAttempts, retryAfterSeconds },
    ),

  /** The same answer whatever the password: the lock was caused by the attempts themselves. */
  accountLocked: (retryAfterSeconds: number) =>
    new AppError(
      ErrorCode.Unauthenticated,
      `too many failed attempts: the account is locked; try again in ${retryAfterSeconds} s or reset the password`,
      {
        reason: AttemptErrorReason.AccountLocked,
        retryAfterSeconds: Math.max(1, retryAfterSeconds),
      },
    ),

  /** Redis (attempt counters, throttles, MFA challenges) does not answer: fail closed. */
  unavailable: () =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      'sign-in is unavailable right now (its attempt counters do not answer); retry shortly',
      { reason: AttemptErrorReason.Unavailable, retryAfterSeconds: 1 },
    ),
};

/** Runs a Redis call; an outage becomes SERVICE_UNAVAILABLE (sign-in fails closed). */
export async function orUnavailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw AttemptErrors.unavailable();
  }
}
