import { Module } from '@nestjs/common';
import { AuthSettingsNatsController } from './auth-settings.nats-controller.js';
import { AuthSettingsRepository } from './auth-settings.repository.js';
import { AuthSettingsService } from './auth-settings.service.js';

/** Per-tenant authentication rules: password policy, lockout, MFA, token lifetimes. */
@Module({
  controllers: [AuthSettingsNatsController],
  providers: [AuthSettingsRepository, AuthSettingsService],
  exports: [AuthSettingsService],
})
export class AuthSettingsModule {}
