import { Logger } from '@nestjs/common';
import { PLATFORM_TENANT_ID, type AuditEvent, type Principal } from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import {
  decisionResult,
  type DecisionAuditor,
  type DecisionResult,
  type PolicySnapshotFollower,
} from '@tenantry/policy-client';
import {
  fromPrincipal,
  mfaAtOf,
  type Check,
  type Decision,
  type Explanation,
  type PolicyPrincipal,
  type RequestContext,
} from '@tenantry/policy-engine';
import { Counter, register } from 'prom-client';
import type { PermissionRequirement } from '../auth/access.decorators.js';
import { AuthzErrors } from './authz.errors.js';

/** A resource path segment (`@tenantry/policy-engine`'s syntax). */
const SEGMENT = /^[A-Za-z0-9._~@-]{1,128}$/;

const decisions =
  (register.getSingleMetric('tenantry_authz_decisions_total') as Counter<string> | undefined) ??
  new Counter({
    name: 'tenantry_authz_decisions_total',
    help: 'Authorization decisions made in the gateway (routes and the authz:check of /v1/authz), by result: allowed, denied, step_up, unavailable',
    labelNames: ['result'],
  });

/** One child per result, bound once: a route's count is one increment, no label lookup. */
const DECISIONS: Record<DecisionResult, Counter.Internal> = {
  allowed: decisions.labels('allowed'),
  denied: decisions.labels('denied'),
  step_up: decisions.labels('step_up'),
  unavailable: decisions.labels('unavailable'),
};

/** One decision, about one principal, in one tenant's policy. */
export interface DecisionRequest {
  /** The tenant whose policy decides. */
  tenantId: string;
  principal: PolicyPrincipal;
  action: string;
  resource: string;
  context?: RequestContext;
}

/** What the audit event of a decision says beyond the decision. */
export interface AuditInfo {
  actor: AuditEvent['actor'];
  /** `METHOD /path` of the route. */
  route?: string;
  /** The tenant in the route's path, when it is not the decision's (operators). */
  routeTenant?: string;
}

export interface AuthorizerOptions {
  /** In [0, 1): for the allow sampling (tests). */
  random?: () => number;
}

/**
 * The gateway's authorization decisions, made locally with the tenants' policy snapshots:
 * route permissions (`@Permission`) and `/v1/authz/*`. Every decision a route makes is counted;
 * denies go to the audit log, and allows at the tenant document's `auditAllowSampleRate`
 * (`@tenantry/policy-engine`'s `shouldAudit`), without waiting for it.
 */
export class Authorizer {
  private readonly logger = new Logger('Authorizer');

  constructor(
    private readonly snapshots: PolicySnapshotFollower,
    private readonly auditor?: DecisionAuditor,
    private readonly options: AuthorizerOptions = {},
  ) {}

  /** The tenant whose policy decides for this principal: its own, or the platform's. */
  static decisionTenant(
    principal: Principal,
    requirement?: Pick<PermissionRequirement, 'platform'>,
  ): string {
    return requirement?.platform ? PLATFORM_TENANT_ID : (principal.tenantId ?? PLATFORM_TENANT_ID);
  }

  /** The resource a route asks about: the requirement's, its `{param}`s replaced by the route's values. */
  static resourceOf(
    requirement: Pick<PermissionRequirement, 'resource' | 'params'>,
    params: Record<string, string | undefined>,
  ): string {
    if (!requirement.params.length) return requirement.resource;
    return requirement.resource.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_all, name: string) => {
      const value = params[name];
      if (value === undefined || !SEGMENT.test(value)) throw AuthzErrors.resourceInvalid(name);
      return value;
    });
  }

  /**
   * A route's decision for the caller: in its tenant's policy (or the platform's), with the
   * client's IP and the caller's last MFA as context. Audited.
   */
  forRoute(
    requirement: PermissionRequirement,
    principal: Principal,
    request: { ip: string; params: Record<string, string | undefined> },
    route: string,
    routeTenant?: string,
  ): Decision {
    const tenantId = Authorizer.decisionTenant(principal, requirement);
    const mfaAt = mfaAtOf(principal);
    return this.decide(
      {
        tenantId,
        principal: fromPrincipal(principal),
        action: requirement.action,
        resource: Authorizer.resourceOf(requirement, request.params),
        context: { ip: request.ip, ...(mfaAt !== undefined ? { mfaAt } : {}) },
      },
      {
        actor: { type: principal.kind, id: principal.id },
        route,
        ...(routeTenant && routeTenant !== tenantId ? { routeTenant } : {}),
      },
    );
  }

  /** One decision; with `audit`, counted and sent to the audit log (denies always, allows sampled). */
  decide(request: DecisionRequest, audit?: AuditInfo): Decision {
    const decision = this.snapshots.store.decide(
      request.tenantId,
      request.principal,
      request.action,
      request.resource,
      request.context,
    );
    // A bug in the engine: refused (500), and the cause only in the log.
    if (decision.reason.kind === 'evaluation-error')
      this.logger.error(`tenant ${request.tenantId}: ${decision.reason.message}`);
    if (audit) {
      DECISIONS[decisionResult(decision)].inc();
      this.audit(request, decision, audit);
    }
    return decision;
  }

  /** Many checks for one principal and context (not audited: questions, not accesses). */
  decideBatch(
    tenantId: string,
    principal: PolicyPrincipal,
    checks: readonly Check[],
    context?: RequestContext,
  ): Decision[] {
    return this.snapshots.store.decideBatch(tenantId, principal, checks, context);
  }

  explain(request: DecisionRequest): Explanation {
    return this.snapshots.store.explain(
      request.tenantId,
      request.principal,
      request.action,
      request.resource,
      request.context,
    );
  }

  private audit(request: DecisionRequest, decision: Decision, info: AuditInfo): void {
    // A policy-unavailable deny is an outage (counted, answered 503): the auditor skips it.
    if (!this.auditor) return;
    const allowSampleRate =
      this.snapshots.store.get(request.tenantId)?.policy.auditAllowSampleRate ?? 0;
    // Most allows are not sampled: nothing more is built for them.
    if (!this.auditor.sampled(decision, allowSampleRate, this.options.random)) return;
    this.auditor.recordDecision({
      tenantId: request.tenantId,
      actor: info.actor,
      action: request.action,
      resource: request.resource,
      decision,
      allowSampleRate,
      context: messageContext.current(),
      extra: {
        ...(info.route ? { route: info.route } : {}),
        ...(info.routeTenant ? { routeTenant: info.routeTenant } : {}),
        ...(request.context?.ip ? { ip: request.context.ip } : {}),
      },
    });
  }
}
