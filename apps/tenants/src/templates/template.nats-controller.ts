import { Controller, Inject } from '@nestjs/common';
import { TemplateRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { TemplateService } from './template.service.js';

/** Templates' requests; `instantiate` (render, then provision) is the provisioning feature's. */
@Controller()
export class TemplateNatsController {
  constructor(@Inject(TemplateService) private readonly templates: TemplateService) {}

  @RpcHandler(TemplateRpc.create)
  create(request: RpcPayload<typeof TemplateRpc.create>) {
    return this.templates.create(request);
  }

  @RpcHandler(TemplateRpc.get)
  get(request: RpcPayload<typeof TemplateRpc.get>) {
    return this.templates.get(request.key);
  }

  @RpcHandler(TemplateRpc.list)
  list() {
    return this.templates.list();
  }

  @RpcHandler(TemplateRpc.update)
  update(request: RpcPayload<typeof TemplateRpc.update>) {
    return this.templates.update(request);
  }

  @RpcHandler(TemplateRpc.delete)
  delete(request: RpcPayload<typeof TemplateRpc.delete>) {
    return this.templates.delete(request.key);
  }

  @RpcHandler(TemplateRpc.render)
  async render(request: RpcPayload<typeof TemplateRpc.render>) {
    return { request: await this.templates.render(request) };
  }
}
