import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { TenantTransactions } from '@tenantry/persistence';
import { createTransport, type Transporter } from 'nodemailer';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { MailRepository, type QueuedMail } from './mail.repository.js';

/** The log line of a mail that was not sent because there is no SMTP server (npm start shows it). */
export const MAIL_LOGGED = 'mail not sent: SMTP_URL is unset';

/** Seconds until the next try after `attempts` failed ones: 5 s doubling, at most 10 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(5 * 2 ** Math.max(attempts - 1, 0), 600);
}

/**
 * Sends queued mail (outgoing_mail) in a loop, like the outbox relay: one transaction per
 * batch with `FOR UPDATE SKIP LOCKED` (replicas share the work), retried with backoff while
 * SMTP is down, woken by `kick()` after a commit. With SMTP_URL unset, each mail is written
 * to the log (one line, MAIL_LOGGED) and counts as sent.
 */
@Injectable()
export class MailSender implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Mail');
  private readonly transport?: Transporter;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(MailRepository) private readonly mail: MailRepository,
    @InjectIdentitySettings() private readonly settings: IdentitySettings,
  ) {
    // Bounded waits: a batch holds its rows' locks while it sends.
    if (settings.smtpUrl) {
      this.transport = createTransport({
        url: settings.smtpUrl,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      });
    }
  }

  onApplicationBootstrap(): void {
    if (!this.transport) {
      this.logger.log('SMTP_URL is unset: mail (invitations, password resets) goes to the log');
    }
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.transport?.close();
  }

  /** Call after committing a transaction that queued mail: sends now instead of at the next poll. */
  kick(): void {
    this.wake?.();
  }

  /** Sends (or logs) one batch of due mail; returns how many were handled. */
  flushOnce(): Promise<number> {
    return this.tx.runGlobal(async (manager) => {
      const batch = await this.mail.due(manager, 20);
      for (const mail of batch) {
        try {
          await this.deliver(mail);
          await this.mail.markSent(manager, mail.id);
        } catch (error) {
          const delay = retryDelaySeconds(mail.attempts + 1);
          this.logger.warn(
            `mail ${mail.id} to ${mail.to} not sent (attempt ${mail.attempts + 1}; next in ${delay} s): ${(error as Error).message}`,
          );
          await this.mail.markFailed(manager, mail.id, delay, (error as Error).message);
        }
      }
      return batch.length;
    });
  }

  private async deliver(mail: QueuedMail): Promise<void> {
    if (!this.transport) {
      this.logger.log({ to: mail.to, subject: mail.subject, text: mail.text }, MAIL_LOGGED);
      return;
    }
    await this.transport.sendMail({
      from: this.settings.mailFrom,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    for (;;) {
      try {
        const handled = await this.flushOnce();
        failures = 0;
        if (handled > 0 && !this.stopped) continue;
        if (this.stopped) return;
      } catch (error) {
        if (this.stopped) return;
        if (failures++ % 20 === 0)
          this.logger.warn(`mail queue unavailable, retrying: ${(error as Error).message}`);
      }
      const waitMs = failures ? Math.min(100 * 2 ** failures, 5_000) : 1_000;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
