import { parseActor, PLATFORM_TENANT_ID } from '@tenantry/contracts';
import { messageContext, newContext } from '@tenantry/messaging';
import { outboxAuditFact, type AuditFact, type OutboxMessage } from '@tenantry/persistence';

/** `auth`: authentication events (logins, MFA, tokens, passwords); `users`: user management. */
export type AuditCategory = 'auth' | 'users';

export interface IdentityAuditFact extends Omit<AuditFact, 'service' | 'category'> {
  category: AuditCategory;
}

/** The actor of nobody known (a login with an unknown email). */
export const SYSTEM_ACTOR = 'system:identity';

/** `operator:<id>` for a user of the platform tenant, `user:<id>` for anyone else. */
export function principalActor(tenantId: string, userId: string): string {
  return `${tenantId === PLATFORM_TENANT_ID ? 'operator' : 'user'}:${userId}`;
}

/**
 * An audit event for the outbox. Its actor is `actor` when given (the person logging in),
 * else whoever the request's Tenantry-Actor header names, else the identity service; an
 * operator acting on a real tenant's data is marked `crossTenant: true`.
 */
export function auditEvent(fact: IdentityAuditFact, actor?: string): OutboxMessage {
  const current = messageContext.current();
  const context = actor ? { ...(current ?? newContext()), actor } : current;
  const who = parseActor(context?.actor);
  const crossTenant = who?.type === 'operator' && fact.tenantId !== PLATFORM_TENANT_ID;
  return outboxAuditFact(
    {
      ...fact,
      service: 'identity',
      ...(crossTenant ? { data: { ...fact.data, crossTenant: true } } : {}),
    },
    context,
  );
}
