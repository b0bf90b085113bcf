import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable } from '@nestjs/common';
import type {
  CreatePolicyRequestSchema,
  ListPoliciesRequestSchema,
  Policy,
  UpdatePolicyRequestSchema,
} from '@tenantry/contracts';
import type { DenyRule } from '@tenantry/policy-engine';
import type { z } from 'zod';
import { compact, pageById } from '../core/paging.js';
import { TenantPolicyService } from '../tenant-policies/tenant-policy.service.js';
import { PolicyErrors } from './policy.errors.js';

type CreatePolicyRequest = z.output<typeof CreatePolicyRequestSchema>;
type ListPoliciesRequest = z.output<typeof ListPoliciesRequestSchema>;
type UpdatePolicyRequest = z.output<typeof UpdatePolicyRequestSchema>;

/** Policies: a tenant's explicit deny rules (the engine's `DenyRule`; UUIDv7 ids). */
@Injectable()
export class PolicyService {
  constructor(@Inject(TenantPolicyService) private readonly policies: TenantPolicyService) {}

  async list(
    request: ListPoliciesRequest,
  ): Promise<{ items: Policy[]; nextCursor: string | null }> {
    const document = await this.policies.document(request.tenantId);
    return pageById(document.denyRules ?? [], request, toContract);
  }

  async get(tenantId: string, policyId: string): Promise<Policy> {
    const document = await this.policies.document(tenantId);
    const rule = document.denyRules?.find((r) => r.id === policyId);
    if (!rule) throw PolicyErrors.notFound(policyId);
    return toContract(rule);
  }

  /** Audited (policy.created). */
  async create(request: CreatePolicyRequest): Promise<Policy> {
    const { tenantId, ...fields } = request;
    const rule: DenyRule = compact({
      id: uuidv7(),
      ...fields,
      conditions: fields.conditions as DenyRule['conditions'],
      unless: fields.unless as DenyRule['unless'],
    });
    const { value } = await this.policies.change(tenantId, (current) => {
      const rules = current.denyRules ?? [];
      return {
        document: { ...current, denyRules: [...rules, rule] },
        value: rule,
        audit: {
          action: 'policy.created',
          target: { type: 'policy', id: rule.id },
          before: null,
          after: rule,
        },
        item: { path: `denyRules.${rules.length}`, what: 'policy' },
      };
    });
    return toContract(value);
  }

  /** Changes the given fields (`null` removes description, subjects or scope). Audited (policy.updated). */
  async update(request: UpdatePolicyRequest): Promise<Policy> {
    const { tenantId, policyId, ...change } = request;
    const { value } = await this.policies.change(tenantId, (current) => {
      const rules = current.denyRules ?? [];
      const index = rules.findIndex((r) => r.id === policyId);
      if (index < 0) throw PolicyErrors.notFound(policyId);
      const before = rules[index]!;
      const pick = <K extends 'description' | 'subjects' | 'scope'>(key: K) =>
        change[key] === null ? undefined : (change[key] ?? before[key]);
      const after: DenyRule = compact({
        ...before,
        name: change.name ?? before.name,
        description: pick('description'),
        permissions: change.permissions ?? before.permissions,
        subjects: pick('subjects'),
        scope: pick('scope'),
        conditions: (change.conditions ?? before.conditions) as DenyRule['conditions'],
        unless: (change.unless ?? before.unless) as DenyRule['unless'],
      });
      return {
        document: { ...current, denyRules: rules.with(index, after) },
        value: after,
        audit: {
          action: 'policy.updated',
          target: { type: 'policy', id: policyId },
          before,
          after,
        },
        item: { path: `denyRules.${index}`, what: 'policy' },
      };
    });
    return toContract(value);
  }

  /** Audited (policy.deleted). */
  async delete(tenantId: string, policyId: string): Promise<{ deleted: true }> {
    await this.policies.change(tenantId, (current) => {
      const rules = current.denyRules ?? [];
      const before = rules.find((r) => r.id === policyId);
      if (!before) throw PolicyErrors.notFound(policyId);
      return {
        document: { ...current, denyRules: rules.filter((r) => r.id !== policyId) },
        value: null,
        audit: {
          action: 'policy.deleted',
          target: { type: 'policy', id: policyId },
          before,
          after: null,
        },
        item: { path: 'denyRules', what: 'policy' },
      };
    });
    return { deleted: true };
  }
}

export function toContract(rule: DenyRule): Policy {
  return {
    id: rule.id,
    name: rule.name ?? rule.id,
    description: rule.description ?? null,
    permissions: rule.permissions,
    subjects: rule.subjects ?? null,
    scope: rule.scope ?? null,
    conditions: rule.conditions ?? [],
    unless: rule.unless ?? [],
  };
}
