import { Module } from '@nestjs/common';
import { PasswordAttempts } from './password-attempts.js';
import { PasswordHasher } from './password.hasher.js';
import { PasswordHistoryRepository } from './password-history.repository.js';
import { PasswordService } from './password.service.js';

/** argon2id hashing, the tenant's password policy and history, failed-attempt lockout. */
@Module({
  providers: [PasswordHasher, PasswordHistoryRepository, PasswordService, PasswordAttempts],
  exports: [PasswordHasher, PasswordService, PasswordAttempts],
})
export class PasswordModule {}
