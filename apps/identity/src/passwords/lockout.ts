/** A tenant's lockout rules (AuthSettings). */
export interface LockoutRules {
  lockoutThreshold: number;
  lockoutWindowSeconds: number;
  lockoutDurationSeconds: number;
}

/** What an attempt found when it asked to go on to the password check. */
export interface AttemptState {
  /** The lock's remaining time; 0 when the account is not locked. */
  lockTtlMs: number;
  /** Failed attempts within the window so far. */
  failures: number;
  /** Attempts whose password is being checked right now, this one included. */
  inFlight: number;
}

export type AttemptDecision =
  | { verify: true }
  | { verify: false; refusal: 'locked'; retryAfterSeconds: number }
  | { verify: false; refusal: 'busy'; retryAfterSeconds: number };

/**
 * Whether an attempt may go on to the password check. A locked account is refused for the
 * rest of its lock. Otherwise the failures so far plus the checks in flight may not exceed
 * the threshold: any of those checks may still fail, so 20 parallel attempts get at most
 * `lockoutThreshold` checks between them, and once that many have failed the account is
 * locked. An attempt beyond that is told to retry in a moment (it is not a failure, and
 * locks nothing: parallel right passwords never lock an account).
 */
export function beforeVerification(state: AttemptState, rules: LockoutRules): AttemptDecision {
  if (state.lockTtlMs > 0) {
    return {
      verify: false,
      refusal: 'locked',
      retryAfterSeconds: Math.ceil(state.lockTtlMs / 1000),
    };
  }
  if (state.failures + state.inFlight > rules.lockoutThreshold) {
    return { verify: false, refusal: 'busy', retryAfterSeconds: 1 };
  }
  return { verify: true };
}
