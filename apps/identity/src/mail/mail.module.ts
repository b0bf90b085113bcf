import { Module } from '@nestjs/common';
import { MailRepository } from './mail.repository.js';
import { MailSender } from './mail.sender.js';
import { MailService } from './mail.service.js';

/** Invitation and password-reset mail: queued with its token, sent over SMTP (or logged) by a loop. */
@Module({
  providers: [MailRepository, MailSender, MailService],
  exports: [MailService],
})
export class MailModule {}
