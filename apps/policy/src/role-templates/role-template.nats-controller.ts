import { Controller, Inject } from '@nestjs/common';
import { RoleTemplateRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { RoleTemplateService } from './role-template.service.js';

@Controller()
export class RoleTemplateNatsController {
  constructor(@Inject(RoleTemplateService) private readonly templates: RoleTemplateService) {}

  @RpcHandler(RoleTemplateRpc.create)
  create(request: RpcPayload<typeof RoleTemplateRpc.create>) {
    return this.templates.create(request);
  }

  @RpcHandler(RoleTemplateRpc.get)
  get(request: RpcPayload<typeof RoleTemplateRpc.get>) {
    return this.templates.get(request.tenantId, request.templateId);
  }

  @RpcHandler(RoleTemplateRpc.list)
  list(request: RpcPayload<typeof RoleTemplateRpc.list>) {
    return this.templates.list(request);
  }

  @RpcHandler(RoleTemplateRpc.delete)
  delete(request: RpcPayload<typeof RoleTemplateRpc.delete>) {
    return this.templates.delete(request.tenantId, request.templateId);
  }
}
