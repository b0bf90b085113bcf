import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { strictObject, UuidSchema } from '../common/primitives.js';
import { ScopeSchema } from '../identity/principal.contract.js';
import {
  AuthzActionSchema,
  AuthzCheckSchema,
  AuthzContextSchema,
  AuthzDecisionSchema,
  AuthzDecisionsSchema,
  AuthzExplanationSchema,
  AuthzPrincipalSchema,
  AuthzResourceSchema,
} from './authz.contract.js';

/**
 * `policy.decide` over NATS: a product's backend service asks the policy service for a decision
 * in a tenant's policy, about any principal of that tenant (the backends on the bus are trusted;
 * the gateway's `/v1/authz/*` is the way for everyone else). The service decides from the same
 * snapshots the gateway holds. A Node service can also embed the engine and follow the snapshots
 * itself (`@tenantry/policy-client`): no network hop at all.
 */
export const DecisionPrincipalSchema = strictObject({
  ...AuthzPrincipalSchema.shape,
  /** An API key's scopes: the decision allows only what one of them covers too. */
  apiKeyScopes: z.array(ScopeSchema).max(100, { error: 'must list at most 100 scopes' }).optional(),
});

export const DecideRequestSchema = strictObject({
  tenantId: UuidSchema,
  principal: DecisionPrincipalSchema,
  action: AuthzActionSchema,
  resource: AuthzResourceSchema,
  context: AuthzContextSchema.optional(),
});
export type DecideRequest = z.output<typeof DecideRequestSchema>;

export const DecideBatchRequestSchema = strictObject({
  tenantId: UuidSchema,
  principal: DecisionPrincipalSchema,
  checks: z
    .array(AuthzCheckSchema)
    .min(1, { error: 'must list at least one check' })
    .max(100, { error: 'must list at most 100 checks' }),
  context: AuthzContextSchema.optional(),
});
export type DecideBatchRequest = z.output<typeof DecideBatchRequestSchema>;

export const PolicyDecisionRpc = {
  decide: defineRpc('policy.decisions.decide', DecideRequestSchema, AuthzDecisionSchema),
  decideBatch: defineRpc(
    'policy.decisions.decide-batch',
    DecideBatchRequestSchema,
    AuthzDecisionsSchema,
  ),
  explain: defineRpc('policy.decisions.explain', DecideRequestSchema, AuthzExplanationSchema),
};
