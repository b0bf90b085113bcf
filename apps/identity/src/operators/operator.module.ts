import { Module } from '@nestjs/common';
import { AuthSettingsModule } from '../auth-settings/auth-settings.module.js';
import { CredentialLookupModule } from '../credential-lookup/credential-lookup.module.js';
import { PasswordModule } from '../passwords/password.module.js';
import { UserModule } from '../users/user.module.js';
import { OperatorService } from './operator.service.js';

/** Platform operators: users of PLATFORM_TENANT_ID; the first one is made at start-up. */
@Module({
  imports: [AuthSettingsModule, CredentialLookupModule, PasswordModule, UserModule],
  providers: [OperatorService],
  exports: [OperatorService],
})
export class OperatorModule {}
