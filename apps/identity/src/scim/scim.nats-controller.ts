import { Controller, Inject } from '@nestjs/common';
import { ScimDirectoryRpc, ScimRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { resourceTypes, schemas, serviceProviderConfig } from './scim-discovery.js';
import { ScimDirectoryService } from './scim-directory.service.js';
import { ScimGroupService } from './scim-group.service.js';
import { ScimUserService } from './scim-user.service.js';

/** A tenant's SCIM directories (the management API). */
@Controller()
export class ScimDirectoryNatsController {
  constructor(@Inject(ScimDirectoryService) private readonly directories: ScimDirectoryService) {}

  @RpcHandler(ScimDirectoryRpc.create)
  create(request: RpcPayload<typeof ScimDirectoryRpc.create>) {
    return this.directories.create(request);
  }

  @RpcHandler(ScimDirectoryRpc.get)
  get(request: RpcPayload<typeof ScimDirectoryRpc.get>) {
    return this.directories.get(request);
  }

  @RpcHandler(ScimDirectoryRpc.list)
  list(request: RpcPayload<typeof ScimDirectoryRpc.list>) {
    return this.directories.list(request);
  }

  @RpcHandler(ScimDirectoryRpc.update)
  update(request: RpcPayload<typeof ScimDirectoryRpc.update>) {
    return this.directories.update(request);
  }

  @RpcHandler(ScimDirectoryRpc.rotateToken)
  rotateToken(request: RpcPayload<typeof ScimDirectoryRpc.rotateToken>) {
    return this.directories.rotateToken(request);
  }

  @RpcHandler(ScimDirectoryRpc.delete)
  delete(request: RpcPayload<typeof ScimDirectoryRpc.delete>) {
    return this.directories.delete(request);
  }
}

/** The SCIM 2.0 protocol: each request carries the directory's bearer token. */
@Controller()
export class ScimNatsController {
  constructor(
    @Inject(ScimUserService) private readonly users: ScimUserService,
    @Inject(ScimGroupService) private readonly groups: ScimGroupService,
    @Inject(ScimDirectoryService) private readonly directories: ScimDirectoryService,
  ) {}

  @RpcHandler(ScimRpc.createUser)
  createUser(request: RpcPayload<typeof ScimRpc.createUser>) {
    return this.users.create(request);
  }

  @RpcHandler(ScimRpc.getUser)
  getUser(request: RpcPayload<typeof ScimRpc.getUser>) {
    return this.users.get(request);
  }

  @RpcHandler(ScimRpc.listUsers)
  listUsers(request: RpcPayload<typeof ScimRpc.listUsers>) {
    return this.users.list(request);
  }

  @RpcHandler(ScimRpc.replaceUser)
  replaceUser(request: RpcPayload<typeof ScimRpc.replaceUser>) {
    return this.users.replace(request);
  }

  @RpcHandler(ScimRpc.patchUser)
  patchUser(request: RpcPayload<typeof ScimRpc.patchUser>) {
    return this.users.patch(request);
  }

  @RpcHandler(ScimRpc.deleteUser)
  deleteUser(request: RpcPayload<typeof ScimRpc.deleteUser>) {
    return this.users.delete(request);
  }

  @RpcHandler(ScimRpc.createGroup)
  createGroup(request: RpcPayload<typeof ScimRpc.createGroup>) {
    return this.groups.create(request);
  }

  @RpcHandler(ScimRpc.getGroup)
  getGroup(request: RpcPayload<typeof ScimRpc.getGroup>) {
    return this.groups.get(request);
  }

  @RpcHandler(ScimRpc.listGroups)
  listGroups(request: RpcPayload<typeof ScimRpc.listGroups>) {
    return this.groups.list(request);
  }

  @RpcHandler(ScimRpc.replaceGroup)
  replaceGroup(request: RpcPayload<typeof ScimRpc.replaceGroup>) {
    return this.groups.replace(request);
  }

  @RpcHandler(ScimRpc.patchGroup)
  patchGroup(request: RpcPayload<typeof ScimRpc.patchGroup>) {
    return this.groups.patch(request);
  }

  @RpcHandler(ScimRpc.deleteGroup)
  deleteGroup(request: RpcPayload<typeof ScimRpc.deleteGroup>) {
    return this.groups.delete(request);
  }

  @RpcHandler(ScimRpc.discovery)
  discovery(request: RpcPayload<typeof ScimRpc.discovery>) {
    const base = this.directories.baseUrl;
    switch (request.document) {
      case 'ServiceProviderConfig':
        return serviceProviderConfig(base);
      case 'Schemas':
        return schemas(base, request.id);
      case 'ResourceTypes':
        return resourceTypes(base, request.id);
    }
  }
}
