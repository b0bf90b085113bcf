import { Module } from '@nestjs/common';
import { ApiKeyController, PlatformApiKeyController } from './api-key.controller.js';
import { AuthSettingsController } from './auth-settings.controller.js';
import { AuthController } from './auth.controller.js';
import { JwksController } from './jwks.controller.js';
import { MeController } from './me.controller.js';
import { SigningKeyController } from './signing-key.controller.js';
import { UserController } from './user.controller.js';

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
    SigningKeyController,
  ],
})
export class IdentityApiModule {}
