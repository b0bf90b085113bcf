import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  AppError,
  ErrorCode,
  Namespace,
  ProvisioningEvents,
  ProvisioningRpc,
  TENANT_PARTICIPANTS,
  type AuditEvent,
  type ProvisioningRun,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
  type TenantParticipant,
} from '@tenantry/contracts';
import { newContext, RpcClient, type NatsService } from '@tenantry/messaging';
import { parseConfig } from '@tenantry/runtime';
import {
  cleanupNamespace,
  connectTestNats,
  LOCAL_INFRA,
  startRedisServer,
  testNamespace,
  waitFor,
  type ServerProcess,
} from '@tenantry/testing';
import { DataSource } from 'typeorm';
import { service } from '../src/app.module.js';

export const OPERATOR = 'operator:01a00000-0000-7000-8000-000000000001';

/** A call a participant received: which service, which verb, what it was asked. */
export interface ParticipantCall {
  service: TenantParticipant | 'identity-users';
  verb: string;
  payload: Record<string, unknown>;
}

/** What a stand-in participant answers: data, an error, or nothing at all (a lost reply). */
export type Answer =
  { data: unknown } | { error: { code: ErrorCode; message: string; reason?: string } } | 'no-reply';

/** Decides the answer to a call; `count` numbers the calls of this service and verb about the tenant (1 for the first). */
export type Behaviour = (call: ParticipantCall, count: number) => Answer | Promise<Answer>;

/** What a participant answers when the test says nothing else: success, as the contracts say. */
function defaultAnswer(call: ParticipantCall): Answer {
  switch (call.verb) {
    case 'usage':
      return { data: { usage: {} } };
    case 'export':
      return { data: { data: { [`${call.service}_rows`]: [{ id: 1 }, { id: 2 }] } } };
    case 'remove':
      return { data: { removed: { [`${call.service}_rows`]: 2 } } };
    case 'create':
      return {
        data: {
          id: crypto.randomUUID(),
          tenantId: call.payload['tenantId'],
          email: String(call.payload['email']).toLowerCase(),
          displayName: call.payload['displayName'],
          status: 'invited',
          roles: call.payload['roles'] ?? [],
          mfaEnabled: false,
          createdAt: new Date().toISOString(),
          updatedAt: new Date().toISOString(),
          lastLoginAt: null,
        },
      };
    default:
      return { data: { output: { [call.verb]: call.service } } };
  }
}

/**
 * Identity, policy and audit as the tenants service meets them: real NATS responders on
 * `<service>.tenant-lifecycle.<verb>` (and identity's `users.create`) that record every call
 * and answer as the test says.
 */
export class Participants {
  readonly calls: ParticipantCall[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  /** Calls so far by service, verb and tenant. */
  private readonly counts = new Map<string, number>();

  /** How `service` answers `verb` from now on (until `reset`). */
  on(service: ParticipantCall['service'], verb: string, behaviour: Behaviour): void {
    this.behaviours.set(`${service}.${verb}`, behaviour);
  }

  reset(): void {
    this.behaviours.clear();
  }

  /** The calls made about one tenant, as `service.verb`. */
  of(tenantId: string): string[] {
    return this.calls
      .filter((c) => c.payload['tenantId'] === tenantId)
      .map((c) => `${c.service}.${c.verb}`);
  }

  serve(nats: NatsService, namespace: Namespace): void {
    const decoder = new TextDecoder();
    const subscribe = (subject: string, service: ParticipantCall['service']) =>
      nats.nc.subscribe(namespace.rpcSubject(subject), {
        callback: (error, msg) => {
          if (error) return;
          const verb = msg.subject.split('.').pop()!;
          const call: ParticipantCall = {
            service,
            verb,
            payload: JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>,
          };
          this.calls.push(call);
          const key = `${service}.${verb}`;
          const countKey = `${key}:${String(call.payload['tenantId'])}`;
          const count = (this.counts.get(countKey) ?? 0) + 1;
          this.counts.set(countKey, count);
          void Promise.resolve((this.behaviours.get(key) ?? defaultAnswer)(call, count)).then(
            (answer) => {
              if (answer === 'no-reply') return;
              msg.respond(
                JSON.stringify(
                  'data' in answer
                    ? { ok: true, data: answer.data }
                    : { ok: false, error: answer.error },
                ),
              );
            },
          );
        },
      });
    for (const participant of TENANT_PARTICIPANTS) {
      subscribe(`${participant}.tenant-lifecycle.*`, participant);
    }
    subscribe('identity.users.create', 'identity-users');
    subscribe('identity.users.list', 'identity-users');
  }
}

interface ProgressEvent {
  runId: string;
  tenantId: string;
  step: string | null;
  status: string;
  attempt: number;
  error: string | null;
}

/**
 * The tenants service in this process (its real Nest module, as runService builds it,
 * without HTTP) on the machine's PostgreSQL and NATS in a namespace of its own, with a
 * private redis-server (the tests flush and restart it); the participants as recording NATS
 * responders; the progress events and audit facts it publishes, as they arrive.
 */
export class ProvisioningHarness {
  app!: INestApplicationContext;
  readonly participants = new Participants();
  readonly progress: ProgressEvent[] = [];
  readonly audit: AuditEvent[] = [];
  readonly exportDir = mkdtempSync(join(tmpdir(), 'tenantry-exports-test-'));

  private constructor(
    readonly namespace: string,
    readonly redis: ServerProcess,
    readonly nats: NatsService,
    readonly rpc: RpcClient,
    private readonly env: Record<string, string>,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<ProvisioningHarness> {
    const namespace = testNamespace('prov');
    const redis = await startRedisServer();
    const nats = await connectTestNats(LOCAL_INFRA.natsUrl, namespace);
    const harness = new ProvisioningHarness(namespace, redis, nats, new RpcClient(nats), env);
    const ns = new Namespace(namespace);
    harness.participants.serve(nats, ns);
    const decoder = new TextDecoder();
    nats.nc.subscribe(ns.subject(ProvisioningEvents.progress.subject), {
      callback: (error, msg) => {
        if (!error) harness.progress.push(JSON.parse(decoder.decode(msg.data)) as ProgressEvent);
      },
    });
    nats.nc.subscribe(ns.subject('audit.>'), {
      callback: (error, msg) => {
        if (!error) harness.audit.push(JSON.parse(decoder.decode(msg.data)) as AuditEvent);
      },
    });
    await harness.startService();
    return harness;
  }

  /** Starts the service (again, after `stopService`: a restart). */
  async startService(): Promise<void> {
    const config = parseConfig('tenants', service.needs, {
      TENANTRY_NAMESPACE: this.namespace,
      NATS_URL: LOCAL_INFRA.natsUrl,
      DB_BOOTSTRAP_URL: LOCAL_INFRA.bootstrapUrl,
      REDIS_URL: this.redis.url,
      DB_POOL_SIZE: '8',
      LOG_LEVEL: 'warn',
      PROVISIONING_STEP_ATTEMPTS: '3',
      PROVISIONING_BACKOFF_MS: '100',
      PROVISIONING_LOCK_MS: '2000',
      PROVISIONING_STALLED_INTERVAL_MS: '1000',
      PROVISIONING_RECONCILE_SECONDS: '1',
      PROVISIONING_RPC_TIMEOUT_MS: '1500',
      TENANT_EXPORT_DIR: this.exportDir,
      ...this.env,
    });
    this.app = await NestFactory.createApplicationContext(service.module(config), {
      logger: process.env.TEST_LOGS ? ['error', 'warn', 'log'] : ['error'],
      abortOnError: false,
    });
  }

  async stopService(): Promise<void> {
    await this.app.close();
  }

  get<T>(type: Type<T>): T {
    return this.app.get(type, { strict: false });
  }

  /** A request as the gateway sends it for an operator. */
  call<C extends RpcContract>(
    contract: C,
    payload: RpcRequest<C>,
    actor = OPERATOR,
  ): Promise<RpcResponse<C>> {
    return this.rpc.request(contract, payload, {
      context: newContext({ actor }),
      timeoutMs: 15_000,
    });
  }

  /** The AppError a request fails with (fails the test if it succeeds). */
  async failure<C extends RpcContract>(contract: C, payload: RpcRequest<C>): Promise<AppError> {
    try {
      await this.call(contract, payload);
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
    throw new Error(`${contract.subject} succeeded, but the test expected it to fail`);
  }

  /** Waits until the tenant's latest run is in one of `statuses`, and answers it. */
  runReaches(
    tenantId: string,
    statuses: ProvisioningRun['status'][],
    timeoutMs = 30_000,
  ): Promise<ProvisioningRun> {
    return waitFor(
      `the run of ${tenantId} to be ${statuses.join(' or ')}`,
      async () => {
        const run = await this.call(ProvisioningRpc.get, { tenantId });
        return statuses.includes(run.status) && run;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** A superuser query on the tenants database (row-level security does not apply). */
  async sql<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    const url = new URL(LOCAL_INFRA.bootstrapUrl);
    const db = await new DataSource({
      type: 'postgres',
      host: url.hostname,
      port: Number(url.port || 5432),
      username: decodeURIComponent(url.username),
      password: url.password || undefined,
      database: new Namespace(this.namespace).database('tenants'),
      installExtensions: false,
      extra: { max: 1 },
    }).initialize();
    try {
      return (await db.query(text, values)) as T[];
    } finally {
      await db.destroy();
    }
  }

  /** A command to the private Redis (FLUSHDB, …). */
  async redisCommand(...args: string[]): Promise<unknown> {
    const { Redis } = await import('ioredis');
    const client = new Redis(this.redis.url, { maxRetriesPerRequest: 1 });
    try {
      return await client.call(args[0]!, ...args.slice(1));
    } finally {
      client.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.app?.close().catch(() => undefined);
    await this.nats.drain().catch(() => undefined);
    await cleanupNamespace(this.namespace, { ...LOCAL_INFRA, redisUrl: this.redis.url });
    await this.redis.stop();
    rmSync(this.exportDir, { recursive: true, force: true });
  }
}
