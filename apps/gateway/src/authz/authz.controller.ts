import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AuthzCheckRequestSchema,
  AuthzDecisionSchema,
  AuthzDecisionsSchema,
  AuthzExplainRequestSchema,
  AuthzExplanationSchema,
  type AuthzCheckRequest,
  type AuthzDecision,
  type AuthzExplainRequest,
  type Principal,
} from '@tenantry/contracts';
import { toAuthzDecision, toAuthzExplanation, toEngineContext } from '@tenantry/policy-client';
import {
  fromPrincipal,
  mfaAtOf,
  type PolicyPrincipal,
  type RequestContext,
} from '@tenantry/policy-engine';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { Authenticated, Caller } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { Authorizer } from './authorizer.js';
import { AuthzErrors } from './authz.errors.js';

/** What a caller needs to ask about another principal of its tenant. */
export const AUTHZ_CHECK = {
  action: 'check',
  resource: 'authz',
  permission: 'authz:check',
} as const;

/** Who a check is about, in which tenant's policy, with which context. */
interface Subject {
  tenantId: string;
  principal: PolicyPrincipal;
  context: RequestContext;
}

/**
 * `/v1/authz`: a product asks whether a principal may do something, decided here, in the
 * gateway, with the tenant's policy snapshot (no round trip to the policy service). About the
 * caller by default (any authenticated caller: the answer is about itself); about another
 * principal of the caller's tenant with `principal`, which takes the permission `authz:check`.
 */
@ApiTags('authz')
@Controller('v1/authz')
export class AuthzController {
  constructor(@Inject(Authorizer) private readonly authorizer: Authorizer) {}

  @Post('check')
  @HttpCode(200)
  @Authenticated()
  @ApiOperation({
    summary: 'May this principal do this? One check, or a batch (`checks`) for one principal',
    description:
      "Decided by the gateway with the policy of the caller's tenant (operators and platform API keys: the platform's). " +
      'Without `principal`, about the caller: its IP and last MFA are taken from the request. With `principal` ' +
      '(another user, API key or service account of the tenant, with its groups), about it, with the `context` given; ' +
      'that takes the permission `authz:check`. A single check answers the decision; a batch `{ results }`, in order. ' +
      "503 while the tenant's policy is not available.",
  })
  @ApiContract({
    status: 200,
    body: AuthzCheckRequestSchema,
    // The decision, or `{ results }` for a batch.
    response: AuthzDecisionSchema.or(AuthzDecisionsSchema),
    forwarded: false,
    problems: [403, 503],
  })
  check(
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
    @Body(new ZodPipe(AuthzCheckRequestSchema, 'body')) body: AuthzCheckRequest,
  ): AuthzDecision | z.output<typeof AuthzDecisionsSchema> {
    const subject = this.subject(caller, request, body, 'POST /v1/authz/check');
    if (body.checks) {
      const results = this.authorizer.decideBatch(
        subject.tenantId,
        subject.principal,
        body.checks,
        subject.context,
      );
      const unavailable = results.find((d) => d.reason.kind === 'policy-unavailable');
      if (unavailable) throw AuthzErrors.fromDecision(unavailable, 'authz:check');
      return { results: results.map(toAuthzDecision) };
    }
    const decision = this.authorizer.decide({
      ...subject,
      action: body.action!,
      resource: body.resource!,
    });
    if (decision.reason.kind === 'policy-unavailable')
      throw AuthzErrors.fromDecision(decision, `${body.resource}:${body.action}`);
    return toAuthzDecision(decision);
  }

  @Post('explain')
  @HttpCode(200)
  @Authenticated()
  @ApiOperation({
    summary: 'Why this decision: every step that led to it, in words',
    description:
      'The same decision as /v1/authz/check, with the steps of the evaluation (bindings, roles, conditions, deny rules). ' +
      'About another principal of the tenant (`principal`) it takes the permission `authz:check`.',
  })
  @ApiContract({
    status: 200,
    body: AuthzExplainRequestSchema,
    response: AuthzExplanationSchema,
    forwarded: false,
    problems: [403, 503],
  })
  explain(
    @Caller() caller: Principal,
    @Req() request: FastifyRequest,
    @Body(new ZodPipe(AuthzExplainRequestSchema, 'body')) body: AuthzExplainRequest,
  ): z.output<typeof AuthzExplanationSchema> {
    const subject = this.subject(caller, request, body, 'POST /v1/authz/explain');
    const explanation = this.authorizer.explain({
      ...subject,
      action: body.action,
      resource: body.resource,
    });
    if (explanation.decision.reason.kind === 'policy-unavailable')
      throw AuthzErrors.fromDecision(explanation.decision, `${body.resource}:${body.action}`);
    return toAuthzExplanation(explanation);
  }

  /**
   * The caller (with the gateway's own facts: its IP, its last MFA), or, with `authz:check`,
   * another principal of the caller's tenant with the context the caller gives.
   */
  private subject(
    caller: Principal,
    request: FastifyRequest,
    body: Pick<AuthzCheckRequest, 'principal' | 'context'>,
    route: string,
  ): Subject {
    const tenantId = Authorizer.decisionTenant(caller);
    const mfaAt = mfaAtOf(caller);
    const own: RequestContext = { ip: request.ip, ...(mfaAt !== undefined ? { mfaAt } : {}) };
    if (!body.principal) {
      const { ip: _ip, mfaAt: _mfaAt, ...given } = toEngineContext(body.context);
      return { tenantId, principal: fromPrincipal(caller), context: { ...given, ...own } };
    }
    const permitted = this.authorizer.decide(
      {
        tenantId,
        principal: fromPrincipal(caller),
        action: AUTHZ_CHECK.action,
        resource: AUTHZ_CHECK.resource,
        context: own,
      },
      { actor: { type: caller.kind, id: caller.id }, route },
    );
    if (!permitted.allowed) throw AuthzErrors.fromDecision(permitted, AUTHZ_CHECK.permission);
    const { kind, id, groups } = body.principal;
    return {
      tenantId,
      principal: { kind, id, tenantId, ...(groups?.length ? { groups } : {}) },
      context: toEngineContext(body.context),
    };
  }
}
