import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { MailRepository, type OutgoingMail } from './mail.repository.js';
import { MailSender } from './mail.sender.js';

/** Mail that goes out if and only if the transaction that carries its token commits. */
@Injectable()
export class MailService {
  constructor(
    @Inject(MailRepository) private readonly mail: MailRepository,
    @Inject(MailSender) private readonly sender: MailSender,
  ) {}

  /** Queues a mail in the caller's transaction; call `kick()` after the commit. */
  queue(manager: EntityManager, mail: OutgoingMail): Promise<void> {
    return this.mail.queue(manager, mail);
  }

  /** Wakes the sender after a commit that queued mail. */
  kick(): void {
    this.sender.kick();
  }
}
