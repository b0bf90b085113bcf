import { Controller, Inject } from '@nestjs/common';
import { SsoSetupLinkRpc, SsoSetupRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { SsoSetupService } from './sso-setup.service.js';

/** The tenant admin's management of setup links. */
@Controller()
export class SsoSetupLinkNatsController {
  constructor(@Inject(SsoSetupService) private readonly setup: SsoSetupService) {}

  @RpcHandler(SsoSetupLinkRpc.create)
  create(request: RpcPayload<typeof SsoSetupLinkRpc.create>) {
    return this.setup.createLink(request);
  }

  @RpcHandler(SsoSetupLinkRpc.get)
  get(request: RpcPayload<typeof SsoSetupLinkRpc.get>) {
    return this.setup.getLink(request);
  }

  @RpcHandler(SsoSetupLinkRpc.list)
  list(request: RpcPayload<typeof SsoSetupLinkRpc.list>) {
    return this.setup.listLinks(request);
  }

  @RpcHandler(SsoSetupLinkRpc.revoke)
  revoke(request: RpcPayload<typeof SsoSetupLinkRpc.revoke>) {
    return this.setup.revokeLink(request);
  }
}

/** What a setup session does; each request carries its session token. */
@Controller()
export class SsoSetupNatsController {
  constructor(@Inject(SsoSetupService) private readonly setup: SsoSetupService) {}

  @RpcHandler(SsoSetupRpc.openSession)
  openSession(request: RpcPayload<typeof SsoSetupRpc.openSession>) {
    return this.setup.openSession(request);
  }

  @RpcHandler(SsoSetupRpc.checkSession)
  async checkSession(request: RpcPayload<typeof SsoSetupRpc.checkSession>) {
    const { tenantId, linkId } = await this.setup.authenticate(request.sessionToken);
    return { tenantId, linkId };
  }

  @RpcHandler(SsoSetupRpc.listConnections)
  listConnections(request: RpcPayload<typeof SsoSetupRpc.listConnections>) {
    return this.setup.listConnections(request);
  }

  @RpcHandler(SsoSetupRpc.createConnection)
  createConnection(request: RpcPayload<typeof SsoSetupRpc.createConnection>) {
    return this.setup.createConnection(request);
  }

  @RpcHandler(SsoSetupRpc.getConnection)
  getConnection(request: RpcPayload<typeof SsoSetupRpc.getConnection>) {
    return this.setup.getConnection(request);
  }

  @RpcHandler(SsoSetupRpc.updateConnection)
  updateConnection(request: RpcPayload<typeof SsoSetupRpc.updateConnection>) {
    return this.setup.updateConnection(request);
  }

  @RpcHandler(SsoSetupRpc.deleteConnection)
  deleteConnection(request: RpcPayload<typeof SsoSetupRpc.deleteConnection>) {
    return this.setup.deleteConnection(request);
  }

  @RpcHandler(SsoSetupRpc.listScimDirectories)
  listScimDirectories(request: RpcPayload<typeof SsoSetupRpc.listScimDirectories>) {
    return this.setup.listScimDirectories(request);
  }

  @RpcHandler(SsoSetupRpc.createScimDirectory)
  createScimDirectory(request: RpcPayload<typeof SsoSetupRpc.createScimDirectory>) {
    return this.setup.createScimDirectory(request);
  }

  @RpcHandler(SsoSetupRpc.rotateScimToken)
  rotateScimToken(request: RpcPayload<typeof SsoSetupRpc.rotateScimToken>) {
    return this.setup.rotateScimToken(request);
  }
}
