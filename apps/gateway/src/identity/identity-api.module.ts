import { Module } from '@nestjs/common';
import { ApiKeyController, PlatformApiKeyController } from './api-key.controller.js';
import { AuthSettingsController } from './auth-settings.controller.js';
import { AuthController } from './auth.controller.js';
import { DomainController } from './domain.controller.js';
import { JwksController } from './jwks.controller.js';
import { MeController } from './me.controller.js';
import { SigningKeyController } from './signing-key.controller.js';
import { SsoController } from './sso.controller.js';
import { SsoConnectionController } from './sso-connection.controller.js';
import { UserController } from './user.controller.js';
import { ScimController } from './scim.controller.js';
import { ScimDirectoryController } from './scim-directory.controller.js';
import { SsoSetupController, SsoSetupLinkController } from './sso-setup.controller.js';

/** The gateway's routes to the identity service. */
@Module({
  controllers: [
    AuthController,
    JwksController,
    MeController,
    UserController,
    ApiKeyController,
    PlatformApiKeyController,
    AuthSettingsController,
    DomainController,
    SigningKeyController,
    SsoController,
    SsoConnectionController,
    ScimDirectoryController,
    SsoSetupLinkController,
    SsoSetupController,
    ScimController,
  ],
})
export class IdentityApiModule {}
