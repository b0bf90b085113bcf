import { AppError, ErrorCode } from '@tenantry/contracts';
import type { Decision } from '@tenantry/policy-engine';

export enum AuthzErrorReason {
  /** The permission is not granted (no grant, a deny rule, a condition, an API key's scopes...). */
  NotPermitted = 'AUTH_NOT_PERMITTED',
  /** It would be granted after MFA: see `obligations`. */
  StepUpRequired = 'STEP_UP_REQUIRED',
  /** The tenant's policy is not loaded or stale: retry. */
  PolicyUnavailable = 'AUTHZ_POLICY_UNAVAILABLE',
  /** The route serves other kinds of principal (an API key on a route about one's own account). */
  PrincipalKindRefused = 'AUTH_PRINCIPAL_KIND_REFUSED',
  /** A route parameter the permission names is not a resource path segment. */
  ResourceInvalid = 'AUTHZ_RESOURCE_INVALID',
}

/** Retry-After of a 503 for a policy that is not available. */
export const POLICY_UNAVAILABLE_RETRY_SECONDS = 2;

const KIND_WORDS: Record<string, string> = {
  user: 'users',
  operator: 'operators',
  api_key: 'API keys',
};

export const AuthzErrors = {
  /**
   * The answer to a decision that does not allow: `permission` is what was asked
   * (`users:write`). The message is the decision's own sentence, about the caller's tenant only:
   * a principal of another tenant got the tenant-not-found 404 before any decision was made.
   */
  fromDecision(decision: Decision, permission: string): AppError {
    const { reason } = decision;
    switch (reason.kind) {
      case 'policy-unavailable':
        return new AppError(
          ErrorCode.ServiceUnavailable,
          `permissions cannot be checked right now (${reason.message}); retry shortly`,
          {
            reason: AuthzErrorReason.PolicyUnavailable,
            retryAfterSeconds: POLICY_UNAVAILABLE_RETRY_SECONDS,
          },
        );
      case 'step-up-required': {
        const minutes = decision.obligations.map((o) => o.mfaWithinMinutes);
        return new AppError(
          ErrorCode.Forbidden,
          `this takes the permission ${permission} and a recent MFA: verify with MFA (at most ${Math.min(
            ...minutes,
          )} minutes before the request), then retry (${reason.message})`,
          {
            reason: AuthzErrorReason.StepUpRequired,
            obligations: decision.obligations.map((o) => ({ ...o })),
          },
        );
      }
      case 'evaluation-error':
        // A bug in the evaluation: refused, and nothing of it in the answer.
        return new AppError(ErrorCode.Internal, 'the permission could not be checked');
      default:
        return new AppError(
          ErrorCode.Forbidden,
          `you are not allowed to do this: it takes the permission ${permission} (${reason.message})`,
          { reason: AuthzErrorReason.NotPermitted },
        );
    }
  },

  principalKindRefused: (kind: string, allowed: readonly string[], permission: string) =>
    new AppError(
      ErrorCode.Forbidden,
      `this route is for ${allowed.map((k) => KIND_WORDS[k] ?? k).join(' and ')}, not ${KIND_WORDS[kind] ?? kind} (it takes the permission ${permission})`,
      { reason: AuthzErrorReason.PrincipalKindRefused },
    ),

  resourceInvalid: (param: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `${param} must be letters, digits and . _ ~ @ - (at most 128)`,
      { reason: AuthzErrorReason.ResourceInvalid, field: param },
    ),
};
