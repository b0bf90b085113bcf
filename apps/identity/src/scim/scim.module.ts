import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CredentialLookupModule } from '../credential-lookup/credential-lookup.module.js';
import { TenantProfileModule } from '../tenant-lifecycle/tenant-profile.module.js';
import { UserModule } from '../users/user.module.js';
import { ScimDirectoryEntity } from './scim-directory.entity.js';
import { ScimDirectoryRepository } from './scim-directory.repository.js';
import { ScimDirectoryService } from './scim-directory.service.js';
import { ScimGroupEntity } from './scim-group.entity.js';
import { ScimGroupRepository } from './scim-group.repository.js';
import { ScimGroupService } from './scim-group.service.js';
import { ScimRoleSync } from './scim-role-sync.js';
import { ScimUserService } from './scim-user.service.js';
import { ScimDirectoryNatsController, ScimNatsController } from './scim.nats-controller.js';

/**
 * SCIM 2.0 directory sync: a tenant's SCIM directories (management) and the SCIM
 * protocol's Users and Groups (RFC 7643, RFC 7644) that IdPs provision through them.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([ScimDirectoryEntity, ScimGroupEntity]),
    CredentialLookupModule,
    TenantProfileModule,
    UserModule,
  ],
  controllers: [ScimDirectoryNatsController, ScimNatsController],
  providers: [
    ScimDirectoryRepository,
    ScimGroupRepository,
    ScimRoleSync,
    ScimDirectoryService,
    ScimUserService,
    ScimGroupService,
  ],
  exports: [ScimDirectoryService],
})
export class ScimModule {}
