import 'reflect-metadata';
import { Writable } from 'node:stream';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  AppError,
  AuthRpc,
  Namespace,
  TenantEvents,
  UserRpc,
  type AuditEvent,
  type ClientInfo,
  type LoginResult,
  type MfaChallenge,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
  type Tenant,
  type TenantStatus,
  type TokenSet,
} from '@tenantry/contracts';
import { newContext, RpcClient, type NatsService } from '@tenantry/messaging';
import { NestPinoLogger, parseConfig } from '@tenantry/runtime';
import {
  cleanupNamespace,
  connectTestNats,
  freePort,
  LOCAL_INFRA,
  testNamespace,
  waitFor,
  serveTenants,
  testTenant,
} from '@tenantry/testing';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { service } from '../src/app.module.js';

/** A mail as the test SMTP server received it. */
export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
}

export interface HarnessOptions {
  /** Extra environment for identity (TENANTRY_ADMIN_EMAIL, ...). */
  env?: Record<string, string>;
}

const SUPERUSER_URL = new URL(LOCAL_INFRA.bootstrapUrl);

/** Decodes a quoted-printable body (nodemailer's encoding for long lines). */
function quotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function parseMail(raw: string): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const header = (name: string) =>
    new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
  let body = raw.slice(split + 4);
  if (/quoted-printable/i.test(header('Content-Transfer-Encoding'))) body = quotedPrintable(body);
  if (/base64/i.test(header('Content-Transfer-Encoding')))
    body = Buffer.from(body, 'base64').toString('utf8');
  return { to: header('To'), subject: header('Subject'), text: body.replace(/\r\n/g, '\n') };
}

/** The MFA challenge a login answered with (fails the test when it answered with tokens). */
export function challengeOf(result: LoginResult): MfaChallenge {
  if (!('mfaRequired' in result)) throw new Error('expected an MFA challenge, got tokens');
  return result;
}

/** A random client address, so that tests do not share the per-IP throttle. */
export function client(): ClientInfo {
  const octet = () => Math.floor(Math.random() * 250) + 1;
  return { ip: `10.${octet()}.${octet()}.${octet()}`, userAgent: 'identity-int-spec' };
}

/** The token in an invitation or reset mail. */
export function tokenOf(mail: ReceivedMail): string {
  const match = /^token: (\S+)$/m.exec(mail.text);
  if (!match) throw new Error(`no token in the mail:\n${mail.text}`);
  return match[1]!;
}

/**
 * The identity service in this process (its real Nest module, as runService builds it,
 * without HTTP), on the machine's PostgreSQL, Redis and NATS in a namespace of its own;
 * a real SMTP server (smtp-server) receiving its mail; a stand-in for the tenants service
 * on NATS; an RPC client playing the gateway; a superuser connection to identity's
 * database for inspection and for moving time.
 */
export class IdentityHarness {
  private readonly tenants = new Map<string, Tenant>();

  private constructor(
    readonly namespace: string,
    readonly app: INestApplicationContext,
    readonly nats: NatsService,
    readonly rpc: RpcClient,
    readonly db: DataSource,
    private readonly smtp: SMTPServer,
    /** Every mail the SMTP server received, in order. */
    readonly mails: ReceivedMail[],
    /** Every line identity logged, parsed. */
    readonly logs: Record<string, unknown>[],
  ) {}

  static async start(options: HarnessOptions = {}): Promise<IdentityHarness> {
    const namespace = testNamespace('id');
    const mails: ReceivedMail[] = [];
    const logs: Record<string, unknown>[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          mails.push(parseMail(Buffer.concat(chunks).toString('utf8')));
          callback();
        });
      },
    });
    const smtpPort = await freePort();
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));

    const nats = await connectTestNats(LOCAL_INFRA.natsUrl, namespace);
    const config = parseConfig('identity', service.needs, {
      TENANTRY_NAMESPACE: namespace,
      NATS_URL: LOCAL_INFRA.natsUrl,
      REDIS_URL: LOCAL_INFRA.redisUrl,
      DB_BOOTSTRAP_URL: LOCAL_INFRA.bootstrapUrl,
      DB_POOL_SIZE: '8',
      LOG_LEVEL: 'info',
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      TENANTRY_ISSUER: 'https://tenantry.test',
      TENANTRY_APP_URL: 'https://app.tenantry.test',
      ...options.env,
    });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
          logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const app = await NestFactory.createApplicationContext(service.module(config), {
      logger: new NestPinoLogger(
        pino({ level: 'info', base: { service: 'identity' }, messageKey: 'msg' }, sink),
      ),
      abortOnError: false,
    });
    const db = await new DataSource({
      type: 'postgres',
      host: SUPERUSER_URL.hostname,
      port: Number(SUPERUSER_URL.port || 5432),
      username: decodeURIComponent(SUPERUSER_URL.username),
      password: SUPERUSER_URL.password || undefined,
      database: new Namespace(namespace).database('identity'),
      installExtensions: false,
      extra: { max: 2 },
    }).initialize();
    const harness = new IdentityHarness(
      namespace,
      app,
      nats,
      new RpcClient(nats),
      db,
      smtp,
      mails,
      logs,
    );
    serveTenants(harness.nats, harness.namespace, harness.tenants);
    return harness;
  }

  get<T>(type: Type<T>): T {
    return this.app.get(type, { strict: false });
  }

  /** A tenant the stand-in tenants service knows (active, unless `over` says otherwise). */
  addTenant(slug: string, name = `Tenant ${slug}`, over: Partial<Tenant> = {}): Tenant {
    const tenant = testTenant({ id: uuidv7(), name, slug, ...over });
    this.tenants.set(tenant.id, tenant);
    return tenant;
  }

  /**
   * Changes a tenant's status in the stand-in tenants service and announces it as that
   * service does (TenantEvents.<status> on EVENTS, the tenant as payload).
   */
  async setTenantStatus(
    id: string,
    status: TenantStatus,
    statusReason: string | null = null,
  ): Promise<Tenant> {
    const current = this.tenants.get(id);
    if (!current) throw new Error(`the stand-in tenants service has no tenant ${id}`);
    const tenant: Tenant = {
      ...current,
      status,
      statusReason,
      updatedAt: new Date().toISOString(),
    };
    this.tenants.set(id, tenant);
    const event =
      status === 'active'
        ? current.status === 'provisioning'
          ? TenantEvents.activated
          : TenantEvents.reactivated
        : status === 'provisioning'
          ? TenantEvents.updated
          : TenantEvents[status];
    await this.nats.js.publish(
      new Namespace(this.namespace).subject(event.subject),
      JSON.stringify(tenant),
    );
    return tenant;
  }

  /** A request as the gateway sends it, acting as `actor` (`operator:<id>`, `user:<id>`) when given. */
  call<C extends RpcContract>(
    contract: C,
    payload: RpcRequest<C>,
    actor?: string,
  ): Promise<RpcResponse<C>> {
    return this.rpc.request(contract, payload, {
      context: newContext(actor ? { actor } : {}),
      timeoutMs: 15_000,
    });
  }

  /** The AppError a request fails with (fails the test if it succeeds). */
  async failure<C extends RpcContract>(
    contract: C,
    payload: RpcRequest<C>,
    actor?: string,
  ): Promise<AppError> {
    try {
      await this.call(contract, payload, actor);
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
    throw new Error(`${contract.subject} succeeded, but the test expected it to fail`);
  }

  /** Waits for the next mail to `to` (after the ones already received) and returns it. */
  async nextMail(to: string, after = this.mails.filter((m) => m.to === to).length) {
    return waitFor(
      `mail number ${after + 1} to ${to}`,
      async () => this.mails.filter((m) => m.to === to)[after],
      { timeoutMs: 15_000, intervalMs: 50 },
    );
  }

  /** Invites a user (as an operator), accepts the invitation with `password` and returns the first tokens. */
  async activeUser(
    tenantId: string,
    email: string,
    password: string,
    extra: { roles?: string[]; displayName?: string } = {},
  ): Promise<{ userId: string; tokens: TokenSet }> {
    const seen = this.mails.filter((m) => m.to === email).length;
    const user = await this.call(
      UserRpc.create,
      {
        tenantId,
        email,
        displayName: extra.displayName ?? email.split('@')[0]!,
        roles: extra.roles,
      },
      'operator:01a00000-0000-7000-8000-000000000001',
    );
    const mail = await this.nextMail(user.email, seen);
    const result = await this.call(AuthRpc.acceptInvitation, {
      token: tokenOf(mail),
      password,
      client: client(),
    });
    if (!('accessToken' in result))
      throw new Error(`accepting the invitation gave an MFA challenge, not tokens`);
    return { userId: user.id, tokens: result };
  }

  /** Every message in the namespace's stream (AUDIT or EVENTS) so far, with its subject. */
  async streamMessages<T>(stream: 'AUDIT' | 'EVENTS'): Promise<{ subject: string; data: T }[]> {
    const name = new Namespace(this.namespace).stream(stream);
    const info = await this.nats.jsm.streams.info(name);
    const messages: { subject: string; data: T }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages; seq++) {
      const message = await this.nats.jsm.streams.getMessage(name, { seq }).catch(() => null);
      if (message) messages.push({ subject: message.subject, data: message.json<T>() });
    }
    return messages;
  }

  /** Waits until the AUDIT stream has an event matching `match`, and returns all that match. */
  async auditEvents(match: (event: AuditEvent) => boolean, count = 1): Promise<AuditEvent[]> {
    return waitFor(
      `${count} matching audit event(s)`,
      async () => {
        const found = (await this.streamMessages<AuditEvent>('AUDIT'))
          .map((m) => m.data)
          .filter(match);
        return found.length >= count && found;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.db.destroy();
    await this.nats.drain().catch(() => undefined);
    await new Promise<void>((resolve) => this.smtp.close(() => resolve()));
    await cleanupNamespace(this.namespace);
  }
}
