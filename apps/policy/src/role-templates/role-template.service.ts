import { Inject, Injectable } from '@nestjs/common';
import type {
  CreateRoleTemplateRequestSchema,
  ListRoleTemplatesRequestSchema,
  RoleTemplate,
} from '@tenantry/contracts';
import {
  SYSTEM_ROLE_TEMPLATES,
  type RoleTemplate as EngineTemplate,
} from '@tenantry/policy-engine';
import type { z } from 'zod';
import { compact, pageById } from '../core/paging.js';
import { TenantPolicyService } from '../tenant-policies/tenant-policy.service.js';
import { RoleTemplateErrors } from './role-template.errors.js';

type CreateRoleTemplateRequest = z.output<typeof CreateRoleTemplateRequestSchema>;
type ListRoleTemplatesRequest = z.output<typeof ListRoleTemplatesRequestSchema>;

const SYSTEM_IDS = new Set(SYSTEM_ROLE_TEMPLATES.map((t) => t.id));

/**
 * Role templates: the system ones (built in, read-only) and the tenant's own, roles with
 * `{variables}` that roles instantiate.
 */
@Injectable()
export class RoleTemplateService {
  constructor(@Inject(TenantPolicyService) private readonly policies: TenantPolicyService) {}

  async list(
    request: ListRoleTemplatesRequest,
  ): Promise<{ items: RoleTemplate[]; nextCursor: string | null }> {
    const document = await this.policies.document(request.tenantId);
    const all = [
      ...SYSTEM_ROLE_TEMPLATES.map((t) => ({ ...t, system: true })),
      ...(document.templates ?? []).map((t) => ({ ...t, system: false })),
    ];
    return pageById(all, request, (t) => toContract(t, t.system));
  }

  async get(tenantId: string, templateId: string): Promise<RoleTemplate> {
    const document = await this.policies.document(tenantId);
    const system = SYSTEM_ROLE_TEMPLATES.find((t) => t.id === templateId);
    if (system) return toContract(system, true);
    const template = document.templates?.find((t) => t.id === templateId);
    if (!template) throw RoleTemplateErrors.notFound(templateId);
    return toContract(template, false);
  }

  /** A template of the tenant's own; its id must be new. Audited (role-template.created). */
  async create(request: CreateRoleTemplateRequest): Promise<RoleTemplate> {
    const { tenantId, ...fields } = request;
    if (SYSTEM_IDS.has(fields.id)) throw RoleTemplateErrors.idTaken(fields.id, true);
    const template: EngineTemplate = compact({
      ...fields,
      conditions: fields.conditions as EngineTemplate['conditions'],
    });
    const { value } = await this.policies.change(tenantId, (current) => {
      const templates = current.templates ?? [];
      if (templates.some((t) => t.id === template.id))
        throw RoleTemplateErrors.idTaken(template.id, false);
      return {
        document: { ...current, templates: [...templates, template] },
        value: template,
        audit: {
          action: 'role-template.created',
          target: { type: 'role-template', id: template.id },
          before: null,
          after: template,
        },
        item: { path: `templates.${templates.length}`, what: 'role template' },
      };
    });
    return toContract(value, false);
  }

  /** Deletes a template of the tenant's that no role instantiates. Audited (role-template.deleted). */
  async delete(tenantId: string, templateId: string): Promise<{ deleted: true }> {
    if (SYSTEM_IDS.has(templateId)) throw RoleTemplateErrors.systemReadOnly(templateId);
    await this.policies.change(tenantId, (current) => {
      const templates = current.templates ?? [];
      const before = templates.find((t) => t.id === templateId);
      if (!before) throw RoleTemplateErrors.notFound(templateId);
      const roles = current.roles.filter((r) => r.template === templateId).map((r) => r.id);
      if (roles.length) throw RoleTemplateErrors.inUse(templateId, roles);
      const rest = templates.filter((t) => t.id !== templateId);
      const { templates: _dropped, ...withoutTemplates } = current;
      return {
        document: rest.length ? { ...current, templates: rest } : withoutTemplates,
        value: null,
        audit: {
          action: 'role-template.deleted',
          target: { type: 'role-template', id: templateId },
          before,
          after: null,
        },
        item: { path: 'templates', what: 'role template' },
      };
    });
    return { deleted: true };
  }
}

export function toContract(template: EngineTemplate, system: boolean): RoleTemplate {
  return {
    id: template.id,
    name: template.name,
    description: template.description ?? null,
    system,
    variables: template.variables ?? [],
    permissions: template.permissions,
    inherits: template.inherits ?? [],
    conditions: template.conditions ?? [],
  };
}
