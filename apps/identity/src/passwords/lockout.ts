/** A tenant's lockout rules (AuthSettings). */
export interface LockoutRules {
  lockoutThreshold: number;
  lockoutWindowSeconds: number;
  lockoutDurationSeconds: number;
}

/** The counter as the attempt found it: the attempts in the window (this one included), or the lock's remaining time. */
export interface AttemptState {
  /** 0 when the account was locked (the attempt was not counted). */
  count: number;
  lockTtlMs: number;
}

export type AttemptDecision =
  { verify: true } | { verify: false; retryAfterSeconds: number; lockNow: boolean };

/**
 * Whether an attempt may go on to the password check. A locked account is refused for the
 * rest of its lock; so is every attempt beyond the threshold, which also locks the account
 * (`lockNow`): since the counter is incremented atomically before any check, 20 parallel
 * attempts get at most `lockoutThreshold` checks between them.
 */
export function beforeVerification(state: AttemptState, rules: LockoutRules): AttemptDecision {
  if (state.lockTtlMs > 0) {
    return { verify: false, retryAfterSeconds: Math.ceil(state.lockTtlMs / 1000), lockNow: false };
  }
  if (state.count > rules.lockoutThreshold) {
    return { verify: false, retryAfterSeconds: rules.lockoutDurationSeconds, lockNow: true };
  }
  return { verify: true };
}

/** After a wrong password: the threshold-th failure within the window locks the account at once. */
export function lockAfterFailure(count: number, rules: LockoutRules): boolean {
  return count >= rules.lockoutThreshold;
}
