import { Logger } from '@nestjs/common';
import {
  parseActor,
  type AuditEvent,
  type AuthzDecision,
  type DecideBatchRequest,
  type DecideRequest,
  PolicyDecisionRpc,
  type RpcResponse,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import {
  toAuthzDecision,
  decisionResult,
  toAuthzExplanation,
  toEngineContext,
  toEnginePrincipal,
  type AuthzExplanation,
  type DecisionAuditor,
  type PolicySnapshotFollower,
} from '@tenantry/policy-client';
import type {
  Decision,
  PolicyPrincipal,
  PrincipalKind,
  RequestContext,
} from '@tenantry/policy-engine';
import { Counter, register } from 'prom-client';

type DecisionRpc = keyof typeof PolicyDecisionRpc;

const decisions =
  (register.getSingleMetric('tenantry_policy_decisions_total') as Counter<string> | undefined) ??
  new Counter({
    name: 'tenantry_policy_decisions_total',
    help: 'Decisions the policy service answered over NATS (policy.decisions.*), by rpc (decide, decideBatch, explain) and result: allowed, denied, step_up, unavailable',
    labelNames: ['rpc', 'result'],
  });

/** The audit log's name for a principal kind. */
const ACTOR_TYPES: Record<PrincipalKind, AuditEvent['actor']['type']> = {
  user: 'user',
  api_key: 'api_key',
  service_account: 'service',
};

/** A decision request as the engine takes it. */
export interface EngineRequest {
  tenantId: string;
  principal: PolicyPrincipal;
  context: RequestContext;
}

/**
 * The request's principal and context as the engine's: the principal is one of the request's
 * tenant (`principal.tenantId` = `tenantId`), with its groups and API key scopes; `mfaAt`
 * becomes epoch milliseconds.
 */
export function engineRequest(
  request: Pick<DecideRequest, 'tenantId' | 'principal' | 'context'>,
): EngineRequest {
  return {
    tenantId: request.tenantId,
    principal: toEnginePrincipal(request.tenantId, request.principal),
    context: toEngineContext(request.context),
  };
}

export interface DecisionServiceOptions {
  /** In [0, 1): for the allow sampling (tests). */
  random?: () => number;
}

/**
 * `policy.decisions.*`: decisions for backend services, made in this process with the snapshots
 * it follows from the POLICY_SNAPSHOTS bucket (the state every holder has, not the database),
 * so every replica answers what the gateway would. A tenant without a usable snapshot is a
 * `policy-unavailable` deny, not an error. `decide` decisions go to the audit log as the
 * gateway's route decisions do: every deny, allows at the tenant's `auditAllowSampleRate`,
 * queued, never holding up the answer. `decide-batch` (what a page asks to draw itself) and
 * `explain` are questions, as `/v1/authz/*` at the gateway: counted, not audited.
 */
export class DecisionService {
  private readonly logger = new Logger('Decisions');

  constructor(
    private readonly snapshots: PolicySnapshotFollower,
    private readonly auditor: DecisionAuditor,
    private readonly options: DecisionServiceOptions = {},
  ) {}

  decide(request: DecideRequest): AuthzDecision {
    const { tenantId, principal, context } = engineRequest(request);
    const decision = this.snapshots.store.decide(
      tenantId,
      principal,
      request.action,
      request.resource,
      context,
    );
    this.decided('decide', request, request, decision);
    return toAuthzDecision(decision);
  }

  decideBatch(request: DecideBatchRequest): RpcResponse<typeof PolicyDecisionRpc.decideBatch> {
    const { tenantId, principal, context } = engineRequest(request);
    const results = this.snapshots.store.decideBatch(tenantId, principal, request.checks, context);
    // A batch is what a page asks to draw itself, as /v1/authz/check at the gateway: counted,
    // not audited (an audit event per button would drown the log).
    for (const decision of results) this.count('decideBatch', request.tenantId, decision);
    return { results: results.map(toAuthzDecision) };
  }

  explain(request: DecideRequest): AuthzExplanation {
    const { tenantId, principal, context } = engineRequest(request);
    const explanation = this.snapshots.store.explain(
      tenantId,
      principal,
      request.action,
      request.resource,
      context,
    );
    this.count('explain', request.tenantId, explanation.decision);
    return toAuthzExplanation(explanation);
  }

  private count(rpc: DecisionRpc, tenantId: string, decision: Decision): void {
    decisions.inc({ rpc, result: decisionResult(decision) });
    // A bug in the engine: a deny, and the cause only in the log.
    if (decision.reason.kind === 'evaluation-error')
      this.logger.error(`tenant ${tenantId}: ${decision.reason.message}`);
  }

  private decided(
    rpc: DecisionRpc,
    request: Pick<DecideRequest, 'tenantId' | 'principal' | 'context'>,
    check: { action: string; resource: string },
    decision: Decision,
  ): void {
    this.count(rpc, request.tenantId, decision);
    const context = messageContext.current();
    const requestedBy = parseActor(context?.actor);
    this.auditor.audit(
      {
        tenantId: request.tenantId,
        actor: { type: ACTOR_TYPES[request.principal.kind], id: request.principal.id },
        action: check.action,
        resource: check.resource,
        decision,
        allowSampleRate:
          this.snapshots.store.get(request.tenantId)?.policy.auditAllowSampleRate ?? 0,
        context,
        extra: {
          rpc: PolicyDecisionRpc[rpc].subject,
          ...(requestedBy ? { requestedBy } : {}),
          ...(request.context?.ip ? { ip: request.context.ip } : {}),
        },
      },
      this.options.random,
    );
  }
}
