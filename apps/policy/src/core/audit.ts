import { parseActor, PLATFORM_TENANT_ID } from '@tenantry/contracts';
import { messageContext, type MessageContext } from '@tenantry/messaging';
import { outboxAuditFact, type OutboxMessage } from '@tenantry/persistence';

/** Every change to a tenant's authorization data is audited under this category. */
export const POLICY_AUDIT_CATEGORY = 'policy';

const MAX_STATE_BYTES = 60 * 1024;

function byteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** What changed: the item's state before and after (null when it did not exist). */
export interface PolicyChangeFact {
  tenantId: string;
  /** `role.created`, `role-binding.deleted`, `policy.updated`, `tenant-policy.created`, ... */
  action: string;
  target: { type: string; id: string };
  before: unknown;
  after: unknown;
  /** The policy version the change made. */
  version: number;
}

/**
 * An audit event for the outbox. Its actor is whoever the request's Tenantry-Actor header
 * names (the principal the gateway established), else the policy service itself; an
 * operator acting on a real tenant's policy is marked `crossTenant: true`.
 */
export function policyAudit(
  fact: PolicyChangeFact,
  context: MessageContext | undefined = messageContext.current(),
): OutboxMessage {
  const who = parseActor(context?.actor);
  const crossTenant = who?.type === 'operator' && fact.tenantId !== PLATFORM_TENANT_ID;
  let before = fact.before ?? null;
  let after = fact.after ?? null;
  // An audit event's data is at most 64 KiB: a huge item is recorded by its id only.
  if (byteLength({ before, after }) > MAX_STATE_BYTES) {
    const summary = (state: unknown) =>
      state === null ? null : { id: fact.target.id, truncated: true, bytes: byteLength(state) };
    before = summary(before);
    after = summary(after);
  }
  return outboxAuditFact(
    {
      tenantId: fact.tenantId,
      category: POLICY_AUDIT_CATEGORY,
      action: fact.action,
      target: fact.target,
      data: {
        before,
        after,
        policyVersion: fact.version,
        ...(crossTenant ? { crossTenant: true } : {}),
      },
      service: 'policy',
    },
    context,
  );
}
