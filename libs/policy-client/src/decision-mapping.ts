import type {
  AuthzContext,
  AuthzDecision,
  DecideRequest,
  PolicyDecisionRpc,
  RpcResponse,
} from '@tenantry/contracts';
import type {
  Decision,
  Explanation,
  PolicyPrincipal,
  RequestContext,
} from '@tenantry/policy-engine';

/** The answer of `policy.decisions.explain` (`AuthzExplanationSchema`). */
export type AuthzExplanation = RpcResponse<typeof PolicyDecisionRpc.explain>;

/**
 * A decision as the contracts answer it (`AuthzDecisionSchema`): the engine's may carry more,
 * and be frozen.
 */
export function toAuthzDecision(decision: Decision): AuthzDecision {
  const { reason } = decision;
  return {
    allowed: decision.allowed,
    reason: {
      kind: reason.kind,
      message: reason.message,
      ...(reason.bindingId !== undefined ? { bindingId: reason.bindingId } : {}),
      ...(reason.roleId !== undefined ? { roleId: reason.roleId } : {}),
      ...(reason.permission !== undefined ? { permission: reason.permission } : {}),
      ...(reason.ruleId !== undefined ? { ruleId: reason.ruleId } : {}),
      ...(reason.condition !== undefined ? { condition: reason.condition } : {}),
    },
    obligations: decision.obligations.map((o) => ({ ...o })),
    policyVersion: decision.policyVersion,
  };
}

/** An explanation as the contracts answer it (`AuthzExplanationSchema`). */
export function toAuthzExplanation(explanation: Explanation): AuthzExplanation {
  return { decision: toAuthzDecision(explanation.decision), steps: [...explanation.steps] };
}

/** The engine's context from the contract's (`mfaAt`, ISO 8601, as epoch milliseconds). */
export function toEngineContext(context: AuthzContext | undefined): RequestContext {
  if (!context) return {};
  const { mfaAt, ...rest } = context;
  return { ...rest, ...(mfaAt !== undefined ? { mfaAt: Date.parse(mfaAt) } : {}) };
}

/**
 * The engine's principal from a decision request's (`DecisionPrincipalSchema`): a principal of
 * the tenant whose policy decides (`tenantId`), with its groups and, for an API key, its scopes.
 */
export function toEnginePrincipal(
  tenantId: string,
  principal: DecideRequest['principal'],
): PolicyPrincipal {
  const { kind, id, groups, apiKeyScopes } = principal;
  return {
    kind,
    id,
    tenantId,
    ...(groups?.length ? { groups } : {}),
    ...(apiKeyScopes !== undefined ? { apiKeyScopes } : {}),
  };
}

/** A decision's result as metrics count it. */
export type DecisionResult = 'allowed' | 'denied' | 'step_up' | 'unavailable';

/** allowed; step_up (allowed after MFA); unavailable (no current policy: an outage); denied. */
export function decisionResult(decision: Decision): DecisionResult {
  if (decision.allowed) return 'allowed';
  switch (decision.reason.kind) {
    case 'step-up-required':
      return 'step_up';
    case 'policy-unavailable':
      return 'unavailable';
    default:
      return 'denied';
  }
}
