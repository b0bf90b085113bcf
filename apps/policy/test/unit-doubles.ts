/**
 * The policy service's logic over in-memory doubles (no database, no NATS): for the unit
 * specs beside the code. The repository keeps rows in a Map, the transaction runs the work
 * against a manager that only takes the outbox's INSERT, the publisher puts documents in a Map.
 */
import { jest } from '@jest/globals';
import { DEFAULT_TENANT_SETTINGS, type Tenant, type TenantStatus } from '@tenantry/contracts';
import { Outbox, TenantTransactions, type OutboxMessage } from '@tenantry/persistence';
import type { PolicyDocument } from '@tenantry/policy-engine';
import { double } from '@tenantry/testing';
import type { EntityManager } from 'typeorm';
import { TenantDirectory } from '../src/core/tenant-directory.js';
import { PolicyQuotas } from '../src/tenant-lifecycle/policy-quotas.js';
import { PolicyPublisher } from '../src/tenant-policies/policy-publisher.js';
import {
  TenantPolicyRepository,
  type StoredPolicy,
} from '../src/tenant-policies/tenant-policy.repository.js';
import { TenantPolicyService } from '../src/tenant-policies/tenant-policy.service.js';

export const TENANT_A = '01a22add-94c3-7000-8000-00000000000a';
export const TENANT_B = '01a22add-94c3-7000-8000-00000000000b';

/** A tenant as the tenants service answers it (free plan, unlimited, no overrides). */
export function testTenant(
  id: string,
  status: TenantStatus = 'active',
  slug = `t${id.slice(-6)}`,
): Tenant {
  const at = new Date().toISOString();
  return {
    id,
    name: `Tenant ${slug}`,
    slug,
    status,
    statusReason: null,
    plan: 'free',
    region: 'local',
    isolation: 'rls',
    settings: { ...DEFAULT_TENANT_SETTINGS },
    limitOverrides: {},
    limits: {
      users: null,
      apiCallsPerMinute: null,
      apiCallsPerDay: null,
      storageMb: null,
      customRoles: null,
      ssoConnections: null,
      meteredUnitsPerMonth: null,
      auditRetentionDays: null,
    },
    features: [],
    pendingPlanChange: null,
    runId: null,
    trialEndsAt: null,
    deleteAfter: null,
    createdAt: at,
    updatedAt: at,
  };
}

export interface InMemoryOptions {
  /** Tenants the tenants service knows, all active (default: A and B). */
  known?: string[];
  /** The statuses of tenants the tenants service knows in another status than active. */
  statuses?: Record<string, TenantStatus>;
  /** Make every publication fail, as with NATS away. */
  publishFails?: boolean;
  maxDocumentBytes?: number;
  /** `limits.customRoles` of tenants with a profile (the others are unlimited). */
  customRoles?: Record<string, number | null>;
}

export function inMemoryPolicies(options: InMemoryOptions = {}) {
  const rows = new Map<string, StoredPolicy>();
  const publications = new Map<string, { version: number; publishedVersion: number }>();
  const bucket = new Map<string, PolicyDocument>();
  const committed: OutboxMessage[] = [];
  const known = new Set(options.known ?? [TENANT_A, TENANT_B]);
  const kick = jest.fn<() => void>();
  const retryLater = jest.fn<() => void>();

  const manager = {
    query: async (sql: string, values: unknown[]) => {
      if (!sql.startsWith('INSERT INTO outbox')) throw new Error(`unexpected query: ${sql}`);
      for (let i = 0; i < values.length; i += 4) {
        committed.push({
          msgId: values[i] as string,
          subject: values[i + 1] as string,
          payload: JSON.parse(values[i + 2] as string),
        });
      }
      return [];
    },
  } as unknown as EntityManager;

  const repository = double(TenantPolicyRepository, {
    lock: async (_manager, tenantId) => structuredClone(rows.get(tenantId) ?? null),
    get: async (tenantId) => {
      const row = rows.get(tenantId);
      return row
        ? {
            ...structuredClone(row),
            publishedVersion: publications.get(tenantId)!.publishedVersion,
          }
        : null;
    },
    insertIfAbsent: async (_manager, tenantId, document) => {
      if (rows.has(tenantId)) return false;
      rows.set(tenantId, {
        tenantId,
        document: structuredClone(document),
        version: document.version,
        updatedAt: new Date(),
      });
      publications.set(tenantId, { version: document.version, publishedVersion: 0 });
      return true;
    },
    save: async (_manager, tenantId, document) => {
      const updatedAt = new Date();
      rows.set(tenantId, {
        tenantId,
        document: structuredClone(document),
        version: document.version,
        updatedAt,
      });
      publications.get(tenantId)!.version = document.version;
      return updatedAt;
    },
    markPublished: async (tenantId, version) => {
      const p = publications.get(tenantId)!;
      p.publishedVersion = Math.max(p.publishedVersion, version);
    },
    remove: async (_manager, tenantId) => {
      const removed = { tenant_policies: rows.delete(tenantId) ? 1 : 0 };
      return { ...removed, policy_publications: publications.delete(tenantId) ? 1 : 0 };
    },
    publications: async (limit, after) =>
      [...publications.entries()]
        .map(([tenantId, p]) => ({ tenantId, ...p }))
        .sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1))
        .filter((p) => after === undefined || p.tenantId > after)
        .slice(0, limit),
  });
  const publish = jest.fn(async (document: PolicyDocument) => {
    if (options.publishFails) throw new Error('NATS is away');
    const current = bucket.get(document.tenantId);
    if (!current || current.version < document.version) bucket.set(document.tenantId, document);
    await repository.markPublished(document.tenantId, document.version, 1);
  });
  const publisher = double(PolicyPublisher, {
    publish,
    retryLater,
    maxDocumentBytes: () => options.maxDocumentBytes ?? 1_000_000,
    onRetryWanted: () => undefined,
    keys: async () => new Set(bucket.keys()),
    unpublish: async (tenantId) => bucket.delete(tenantId),
    versionInBucket: async (tenantId) => bucket.get(tenantId)?.version ?? 0,
  });
  const tx = double(TenantTransactions, {
    run: async <T>(_tenantId: string, work: (m: EntityManager) => Promise<T>) => work(manager),
  });
  const service = new TenantPolicyService(
    repository,
    tx,
    double(Outbox, { kick }),
    publisher,
    double(TenantDirectory, {
      status: async (tenantId) =>
        options.statuses?.[tenantId] ?? (known.has(tenantId) ? 'active' : null),
    }),
  );
  const quotas = double(PolicyQuotas, {
    customRolesLimit: async (tenantId) => options.customRoles?.[tenantId] ?? null,
  });
  return {
    service,
    quotas,
    repository,
    publisher,
    rows,
    publications,
    bucket,
    committed,
    kick,
    publish,
    retryLater,
    /** The audit events committed so far, as payloads. */
    audits: () =>
      committed
        .filter((m) => m.subject.startsWith('audit.'))
        .map(
          (m) =>
            m.payload as {
              tenantId: string;
              category: string;
              action: string;
              actor: { type: string; id: string };
              target?: { type: string; id: string };
              data?: { before: unknown; after: unknown; policyVersion: number };
            },
        ),
  };
}
