import { freePort } from '@tenantry/launcher';
import { SMTPServer } from 'smtp-server';

/** A mail as a test SMTP server received it: one per recipient, the raw message. */
export interface TestMail {
  to: string;
  text: string;
}

export interface TestSmtpServer {
  port: number;
  /** `SMTP_URL` for a service that should send here. */
  url: string;
  /** Every mail received, in order. */
  mails: TestMail[];
  close: () => Promise<void>;
}

/** A real SMTP server on a free local port that keeps what it receives (invitations, resets). */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const mails: TestMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      stream.on('end', () => {
        for (const rcpt of session.envelope.rcptTo) mails.push({ to: rcpt.address, text: raw });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The token of the first link in a mail (quoted-printable soft breaks and `=3D` undone). */
export function tokenInMail(mail: string): string {
  const text = mail.replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
  const match = /[?&]token=([A-Za-z0-9._~%-]+)/.exec(text);
  if (!match) throw new Error(`no token link in the mail:\n${text}`);
  return decodeURIComponent(match[1]!);
}
