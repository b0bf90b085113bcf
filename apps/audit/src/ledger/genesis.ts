import type { AuditEvent } from '@tenantry/contracts';
import { v5 as uuidv5 } from 'uuid';

/** The action of the first entry of a tenant's chain. */
export const GENESIS_ACTION = 'tenant.genesis';
export const GENESIS_CATEGORY = 'tenants';

/** The UUIDv5 namespace of genesis event ids (fixed: the id of a tenant's genesis never changes). */
const GENESIS_NAMESPACE = '6d0c1c2e-6b8a-4f43-9a51-2a3f0e7b4c11';

/** What a genesis entry says of the tenant (as far as known where it is written). */
export interface GenesisData {
  slug?: string;
  plan?: string;
  runId?: string;
}

/** The id of the tenant's genesis event: derived from the tenant id, so a step run again finds it. */
export function genesisEventId(tenantId: string): string {
  return uuidv5(tenantId.toLowerCase(), GENESIS_NAMESPACE);
}

/**
 * The event that opens a tenant's chain (action `tenant.genesis`, category `tenants`, by the
 * tenants service, about the tenant). Appended by the audit service itself, never published:
 * by the provisioning run's audit-genesis step, or, when the tenant's `tenant.created` comes
 * first, just before it (LedgerWriter).
 */
export function genesisEvent(
  tenantId: string,
  data: GenesisData,
  occurredAt = new Date().toISOString(),
): AuditEvent {
  const id = tenantId.toLowerCase();
  return {
    schemaVersion: 1,
    id: genesisEventId(id),
    tenantId: id,
    occurredAt,
    category: GENESIS_CATEGORY,
    action: GENESIS_ACTION,
    outcome: 'success',
    actor: { type: 'service', id: 'tenants' },
    target: { type: 'tenant', id },
    data: { ...data },
  };
}

/** Whether `event` is the tenants service's `tenant.created` of its own tenant. */
export function isTenantCreated(event: AuditEvent): boolean {
  return (
    event.category === GENESIS_CATEGORY &&
    event.action === 'tenant.created' &&
    event.target?.type === 'tenant' &&
    event.target.id.toLowerCase() === event.tenantId.toLowerCase()
  );
}

/** The genesis that goes before a tenant's `tenant.created` when that opens the chain. */
export function genesisBefore(created: AuditEvent): AuditEvent {
  const data = created.data ?? {};
  const picked: GenesisData = {};
  for (const key of ['slug', 'plan', 'runId'] as const) {
    const value = data[key];
    if (typeof value === 'string') picked[key] = value;
  }
  return genesisEvent(created.tenantId, picked, created.occurredAt);
}
