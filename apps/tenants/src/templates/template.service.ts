import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable } from '@nestjs/common';
import {
  PLATFORM_TENANT_ID,
  type CreateTenantRequest,
  type RpcPayload,
  type TemplateRpc,
  type TenantTemplate,
} from '@tenantry/contracts';
import { Outbox, outboxAuditFact, type OutboxMessage } from '@tenantry/persistence';
import { TenantService } from '../tenants/tenant.service.js';
import { renderTemplate, templateProblems } from './template-render.js';
import { TemplateEntity } from './template.entity.js';
import { TemplateErrors } from './template.errors.js';
import { TemplateRepository } from './template.repository.js';

type CreateTemplateRequest = RpcPayload<typeof TemplateRpc.create>;
type UpdateTemplateRequest = RpcPayload<typeof TemplateRpc.update>;
/** A template's key, the variables' values and the overrides (TemplateRpc.render and .instantiate). */
export type RenderTemplateRequest = RpcPayload<typeof TemplateRpc.render>;

/**
 * Tenant templates: recipes (a CreateTenantRequest with `{{variable}}` placeholders) that
 * operators keep, and their rendering into a tenant request, refused with the path of every
 * problem. Provisioning instantiates them (render, then create).
 */
@Injectable()
export class TemplateService {
  constructor(
    @Inject(TemplateRepository) private readonly templates: TemplateRepository,
    @Inject(TenantService) private readonly tenants: TenantService,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async create(request: CreateTemplateRequest): Promise<TenantTemplate> {
    const problems = templateProblems(request);
    if (problems.length) throw TemplateErrors.invalid(request.key, problems);
    const now = new Date();
    const entity = Object.assign(new TemplateEntity(), {
      id: uuidv7(),
      key: request.key,
      name: request.name,
      description: request.description,
      variables: request.variables,
      body: request.body,
      createdAt: now,
      updatedAt: now,
    });
    if (!(await this.templates.insert(entity, [audit(entity, 'template.created')])))
      throw TemplateErrors.keyTaken(request.key);
    this.outbox.kick();
    return toContract(entity);
  }

  async get(key: string): Promise<TenantTemplate> {
    return toContract(await this.entity(key));
  }

  async list(): Promise<{ items: TenantTemplate[] }> {
    return { items: (await this.templates.all()).map(toContract) };
  }

  /** Changes the fields given (variables and body replace the old ones); the result is checked as a new template is. */
  async update(request: UpdateTemplateRequest): Promise<TenantTemplate> {
    const current = await this.entity(request.key);
    const next = Object.assign(new TemplateEntity(), current, {
      name: request.name ?? current.name,
      description: request.description ?? current.description,
      variables: request.variables ?? current.variables,
      body: request.body ?? current.body,
      updatedAt: new Date(),
    });
    const problems = templateProblems(next);
    if (problems.length) throw TemplateErrors.invalid(request.key, problems);
    const changed = (['name', 'description', 'variables', 'body'] as const).filter(
      (f) => JSON.stringify(current[f]) !== JSON.stringify(next[f]),
    );
    if (!changed.length) return toContract(current);
    if (!(await this.templates.update(next, [audit(next, 'template.updated', { changed })])))
      throw TemplateErrors.notFound(request.key);
    this.outbox.kick();
    return toContract(next);
  }

  async delete(key: string): Promise<{ deleted: true }> {
    if (!(await this.templates.delete(key, (t) => [audit(t, 'template.deleted')])))
      throw TemplateErrors.notFound(key);
    this.outbox.kick();
    return { deleted: true };
  }

  /**
   * The tenant request the template makes with these variables and overrides, checked as a
   * new tenant is (schema, region, isolation, networks). Refusals name the path of each
   * problem: `variables.<name>` (unknown, missing, wrong type), `overrides.<path>`, or the
   * path in the rendered request (`settings.sessionTimeoutMinutes: must be an integer from 5
   * to 43200`).
   */
  async render(request: RenderTemplateRequest): Promise<CreateTenantRequest> {
    const template = await this.entity(request.key);
    const result = renderTemplate(template, {
      variables: request.variables ?? {},
      overrides: request.overrides ?? {},
    });
    if (!result.ok) {
      if (result.stage === 'variables')
        throw TemplateErrors.variablesInvalid(template.key, result.problems);
      if (result.stage === 'overrides')
        throw TemplateErrors.overridesInvalid(template.key, result.problems);
      throw TemplateErrors.renderInvalid(template.key, result.problems);
    }
    this.tenants.checkCreateRequest(result.request);
    return result.request;
  }

  private async entity(key: string): Promise<TemplateEntity> {
    const template = await this.templates.findByKey(key);
    if (!template) throw TemplateErrors.notFound(key);
    return template;
  }
}

function audit(
  template: TemplateEntity,
  action: string,
  data: Record<string, unknown> = {},
): OutboxMessage {
  return outboxAuditFact({
    tenantId: PLATFORM_TENANT_ID,
    category: 'tenants',
    action,
    target: { type: 'tenant-template', id: template.id },
    data: { key: template.key, ...data },
    service: 'tenants',
  });
}

function toContract(entity: TemplateEntity): TenantTemplate {
  return {
    id: entity.id,
    key: entity.key,
    name: entity.name,
    description: entity.description,
    variables: entity.variables,
    body: entity.body,
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
  };
}
