/**
 * Decisions in the audit log: which ones go there (every deny, a sample of allows at the tenant
 * document's `auditAllowSampleRate`) and the audit event that records one. Pure: the holder (the
 * gateway, the policy service) publishes the event.
 */
import type { AuditEventV1 } from '@tenantry/contracts';
import type { Decision } from './decision.js';

/** The audit category of decisions: events `audit.<tenantId>.authz`. */
export const DECISION_AUDIT_CATEGORY = 'authz';

/** The audit actions: one for allowed decisions, one for denied ones. */
export const DecisionAuditActions = {
  allowed: 'authz.allowed',
  denied: 'authz.denied',
} as const;

const MAX_TARGET_ID = 200;

/**
 * Whether a decision goes to the audit log: a deny always; an allow with probability
 * `allowSampleRate` (0: never, 1: always). `random` is in [0, 1), as Math.random.
 */
export function shouldAudit(
  decision: Pick<Decision, 'allowed'>,
  allowSampleRate: number,
  random: () => number = Math.random,
): boolean {
  if (!decision.allowed) return true;
  if (!(allowSampleRate > 0)) return false;
  if (allowSampleRate >= 1) return true;
  return random() < allowSampleRate;
}

export interface DecisionAuditInput {
  /** The event id (a UUID; v7 keeps the log in time order). */
  readonly id: string;
  /** The tenant whose policy decided: the event is that tenant's. */
  readonly tenantId: string;
  /** Who asked, as the audit log names actors (`user`, `operator`, `api_key`, ...). */
  readonly actor: AuditEventV1['actor'];
  readonly action: string;
  readonly resource: string;
  readonly decision: Decision;
  /** When it was decided; now by default. */
  readonly occurredAt?: Date;
  readonly requestId?: string;
  /**
   * The allow sample rate in force: recorded on a sampled allow, so that a reader can scale
   * allow counts back up.
   */
  readonly allowSampleRate?: number;
  /** More to record (the route, the tenant in the route); free-form JSON. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/**
 * The audit event of a decision: category `authz`, action `authz.allowed` or `authz.denied`
 * (outcome success or failure), the resource as the target, and in `data` the permission asked,
 * the reason (kind, sentence, binding, role, rule, condition), the obligations and the policy
 * version.
 */
export function decisionAuditEvent(input: DecisionAuditInput): AuditEventV1 {
  const { decision } = input;
  const reason: Record<string, unknown> = {
    kind: decision.reason.kind,
    message: decision.reason.message,
  };
  for (const key of ['bindingId', 'roleId', 'permission', 'ruleId', 'condition'] as const) {
    const value = decision.reason[key];
    if (value !== undefined) reason[key] = value;
  }
  const data: Record<string, unknown> = {
    ...input.extra,
    permission: `${input.resource}:${input.action}`,
    action: input.action,
    resource: input.resource,
    allowed: decision.allowed,
    reason,
    policyVersion: decision.policyVersion,
  };
  if (decision.obligations.length) data.obligations = decision.obligations.map((o) => ({ ...o }));
  if (decision.allowed && input.allowSampleRate !== undefined)
    data.allowSampleRate = input.allowSampleRate;
  return {
    schemaVersion: 1,
    id: input.id,
    tenantId: input.tenantId,
    occurredAt: (input.occurredAt ?? new Date()).toISOString(),
    category: DECISION_AUDIT_CATEGORY,
    action: decision.allowed ? DecisionAuditActions.allowed : DecisionAuditActions.denied,
    outcome: decision.allowed ? 'success' : 'failure',
    actor: input.actor,
    target: {
      type: input.resource.split('/', 1)[0]!,
      id:
        input.resource.length > MAX_TARGET_ID
          ? `${input.resource.slice(0, MAX_TARGET_ID - 1)}…`
          : input.resource,
    },
    ...(input.requestId ? { requestId: input.requestId } : {}),
    data,
  };
}
