import { Inject, Injectable } from '@nestjs/common';
import type { AuthSettings } from '@tenantry/contracts';
import type { EntityManager } from 'typeorm';
import { PasswordErrors } from './password.errors.js';
import { PasswordHasher } from './password.hasher.js';
import { PasswordHistoryRepository } from './password-history.repository.js';
import { strengthProblem } from './password.policy.js';

export interface NewPassword {
  tenantId: string;
  userId: string;
  password: string;
  settings: Pick<AuthSettings, 'passwordMinLength' | 'passwordHistory'>;
  /** The request field that carried it, named in the error. */
  field: string;
}

/** A tenant's password policy applied to a new password, and the history it keeps. */
@Injectable()
export class PasswordService {
  constructor(
    @Inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @Inject(PasswordHistoryRepository) private readonly history: PasswordHistoryRepository,
  ) {}

  /**
   * The argon2id hash of a new password that meets the tenant's policy: long enough, not
   * common, and none of the user's last `passwordHistory` passwords (the current one
   * included). Otherwise throws VALIDATION_FAILED naming `field`. Runs in the caller's
   * transaction; call `remember` once the password is set.
   */
  async choose(manager: EntityManager, request: NewPassword): Promise<string> {
    const { password, settings, field } = request;
    const problem = strengthProblem(password, settings.passwordMinLength);
    if (problem?.kind === 'too_short') throw PasswordErrors.tooShort(field, problem.minLength);
    if (problem?.kind === 'too_common') throw PasswordErrors.tooCommon(field);
    const previous = await this.history.recent(
      manager,
      request.tenantId,
      request.userId,
      settings.passwordHistory,
    );
    // In parallel: argon2 runs on the thread pool, so the check costs about one verification.
    const reused = await Promise.all(previous.map((hash) => this.hasher.verify(hash, password)));
    if (reused.some(Boolean)) throw PasswordErrors.reused(field, settings.passwordHistory);
    return this.hasher.hash(password);
  }

  /** Adds a password that was just set to the user's history (in the caller's transaction). */
  remember(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    passwordHash: string,
  ): Promise<void> {
    return this.history.add(manager, tenantId, userId, passwordHash);
  }
}
