import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable } from '@nestjs/common';
import type {
  CreateRoleBindingRequestSchema,
  ListRoleBindingsRequestSchema,
  RoleBinding,
} from '@tenantry/contracts';
import type { Binding } from '@tenantry/policy-engine';
import type { z } from 'zod';
import { compact, pageById } from '../core/paging.js';
import { TenantPolicyService } from '../tenant-policies/tenant-policy.service.js';
import { RoleBindingErrors } from './role-binding.errors.js';

type CreateRoleBindingRequest = z.output<typeof CreateRoleBindingRequestSchema>;
type ListRoleBindingsRequest = z.output<typeof ListRoleBindingsRequestSchema>;

/** Role bindings: a role given to a user, group, API key or service account (UUIDv7 ids). */
@Injectable()
export class RoleBindingService {
  constructor(@Inject(TenantPolicyService) private readonly policies: TenantPolicyService) {}

  /** By id (creation order for the ones made here), filtered by subject and role. */
  async list(
    request: ListRoleBindingsRequest,
  ): Promise<{ items: RoleBinding[]; nextCursor: string | null }> {
    const document = await this.policies.document(request.tenantId);
    const matching = document.bindings.filter(
      (b) =>
        (request.subjectType === undefined || b.subject.type === request.subjectType) &&
        (request.subjectId === undefined || b.subject.id === request.subjectId) &&
        (request.roleId === undefined || b.roleId === request.roleId),
    );
    return pageById(matching, request, toContract);
  }

  async get(tenantId: string, bindingId: string): Promise<RoleBinding> {
    const document = await this.policies.document(tenantId);
    const binding = document.bindings.find((b) => b.id === bindingId);
    if (!binding) throw RoleBindingErrors.notFound(bindingId);
    return toContract(binding);
  }

  /** Binds a role (an unknown role is a 400 naming roleId). Audited (role-binding.created). */
  async create(request: CreateRoleBindingRequest): Promise<RoleBinding> {
    const { tenantId, ...fields } = request;
    const binding: Binding = compact({
      id: uuidv7(),
      roleId: fields.roleId,
      subject: fields.subject,
      scope: fields.scope,
      expiresAt: fields.expiresAt,
      conditions: fields.conditions as Binding['conditions'],
    });
    const { value } = await this.policies.change(tenantId, (current) => ({
      document: { ...current, bindings: [...current.bindings, binding] },
      value: binding,
      audit: {
        action: 'role-binding.created',
        target: { type: 'role-binding', id: binding.id },
        before: null,
        after: binding,
      },
      item: { path: `bindings.${current.bindings.length}`, what: 'role binding' },
    }));
    return toContract(value);
  }

  /** Audited (role-binding.deleted). */
  async delete(tenantId: string, bindingId: string): Promise<{ deleted: true }> {
    await this.policies.change(tenantId, (current) => {
      const before = current.bindings.find((b) => b.id === bindingId);
      if (!before) throw RoleBindingErrors.notFound(bindingId);
      return {
        document: { ...current, bindings: current.bindings.filter((b) => b.id !== bindingId) },
        value: null,
        audit: {
          action: 'role-binding.deleted',
          target: { type: 'role-binding', id: bindingId },
          before,
          after: null,
        },
        item: { path: 'bindings', what: 'role binding' },
      };
    });
    return { deleted: true };
  }
}

export function toContract(binding: Binding): RoleBinding {
  return {
    id: binding.id,
    roleId: binding.roleId,
    subject: binding.subject,
    scope: binding.scope ?? null,
    expiresAt: binding.expiresAt ?? null,
    conditions: binding.conditions ?? [],
  };
}
