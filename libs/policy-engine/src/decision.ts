/** What a decision says, and the request it answers. */
import type { ConditionType, DeviceTrustLevel, SubjectType } from './document.js';

export type PrincipalKind = 'user' | 'api_key' | 'service_account';

/** Who asks, as the caller (gateway, service) established it. */
export interface PolicyPrincipal {
  readonly kind: PrincipalKind;
  readonly id: string;
  /** The principal's own tenant, when known: a decision in any other tenant is a deny (`cross-tenant`). */
  readonly tenantId?: string;
  /** Groups the principal is in (SSO/SCIM): their bindings apply too. */
  readonly groups?: readonly string[];
  /**
   * An API key's scopes (`resource:action` permissions). When given, a decision allows only what
   * one of them covers too: they are intersected with the key's bindings.
   */
  readonly apiKeyScopes?: readonly string[];
}

/** What conditions look at. Missing information never helps the caller. */
export interface RequestContext {
  /** Epoch milliseconds; Date.now() when absent. */
  readonly now?: number;
  /** The client's IPv4 or IPv6 address (`::ffff:a.b.c.d` counts as IPv4). */
  readonly ip?: string;
  /** Epoch milliseconds of the principal's last MFA. */
  readonly mfaAt?: number;
  /** ISO 3166-1 alpha-2, upper case. */
  readonly country?: string;
  readonly deviceTrust?: DeviceTrustLevel;
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

/** One check of a batch: the same principal and context, another action or resource. */
export interface Check {
  readonly action: string;
  readonly resource: string;
}

export type ReasonKind =
  /** Allowed: a binding's role grants the permission. */
  | 'granted'
  /** An explicit deny rule applies. */
  | 'deny-rule'
  /** It would be allowed after MFA: see the `step-up` obligation. */
  | 'step-up-required'
  /** A binding grants the permission but one of its conditions fails. */
  | 'condition-failed'
  /** The only bindings that grant it have expired. */
  | 'binding-expired'
  /** No binding of the principal grants the permission. */
  | 'no-grant'
  /** The API key's scopes do not cover the request. */
  | 'outside-api-key-scopes'
  /** The principal belongs to another tenant. */
  | 'cross-tenant'
  /** The action or resource is malformed (empty, `*`, an empty path segment). */
  | 'invalid-request'
  /** No policy of the tenant is loaded, or it is older than allowed. */
  | 'policy-unavailable'
  /** The evaluation threw (a bug): denied. */
  | 'evaluation-error';

export interface Reason {
  readonly kind: ReasonKind;
  /** One sentence for a tenant admin. */
  readonly message: string;
  readonly bindingId?: string;
  /** The role whose permission matched (for `granted`, `condition-failed`...). */
  readonly roleId?: string;
  /** The permission that matched, as written in the role or deny rule. */
  readonly permission?: string;
  readonly ruleId?: string;
  /** The condition that failed or asks for step-up. */
  readonly condition?: ConditionType;
}

/** The caller must have the principal do MFA (again): then the same request is allowed. */
export interface StepUpObligation {
  readonly type: 'step-up';
  /** An MFA at most this many minutes old satisfies it. */
  readonly mfaWithinMinutes: number;
}
export type Obligation = StepUpObligation;

export interface Decision {
  readonly allowed: boolean;
  readonly reason: Reason;
  readonly obligations: readonly Obligation[];
  /** The version of the tenant's policy that decided; null when none was available. */
  readonly policyVersion: number | null;
}

export const NO_OBLIGATIONS: readonly Obligation[] = Object.freeze([]);

/**
 * A decision. `shared` ones (made once at compile time and returned to every caller) are frozen
 * deeply; the others are made for one call.
 */
export function decision(
  allowed: boolean,
  reason: Reason,
  policyVersion: number | null,
  stepUpMinutes?: number,
  shared = false,
): Decision {
  const obligations =
    stepUpMinutes === undefined
      ? NO_OBLIGATIONS
      : [{ type: 'step-up' as const, mfaWithinMinutes: stepUpMinutes }];
  if (!shared) return { allowed, reason, obligations, policyVersion };
  obligations.forEach((o) => Object.freeze(o));
  return Object.freeze({
    allowed,
    reason: Object.freeze(reason),
    obligations: Object.freeze(obligations),
    policyVersion,
  });
}

const SUBJECT_WORDS: Record<SubjectType | 'role', string> = {
  user: 'user',
  group: 'group',
  api_key: 'API key',
  service_account: 'service account',
  role: 'role',
};

export function subjectText(type: SubjectType | 'role' | PrincipalKind, id: string): string {
  return `${SUBJECT_WORDS[type]} ${id}`;
}

export function principalText(p: PolicyPrincipal): string {
  return subjectText(p.kind, p.id);
}
