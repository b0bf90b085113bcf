import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  AppError,
  auditSubject,
  Namespace,
  type AuditEvent,
  type ErrorBody,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
} from '@tenantry/contracts';
import { newContext, RpcClient, type NatsService } from '@tenantry/messaging';
import { parseConfig } from '@tenantry/runtime';
import {
  cleanupNamespace,
  connectTestNats,
  LOCAL_INFRA,
  testNamespace,
  waitFor,
} from '@tenantry/testing';
import { DataSource } from 'typeorm';
import { service } from '../src/app.module.js';

const SUPERUSER_URL = new URL(LOCAL_INFRA.bootstrapUrl);
const encoder = new TextEncoder();

/**
 * The audit service in this process (its real Nest module, as runService builds it, without
 * HTTP) on the machine's PostgreSQL and NATS in a namespace of its own: its consumer drains
 * the AUDIT stream into the ledger, its RPC handlers answer; an RPC client playing the
 * gateway; a superuser connection to its database for inspection.
 */
export class AuditHarness {
  private constructor(
    readonly namespace: string,
    readonly app: INestApplicationContext,
    readonly nats: NatsService,
    readonly rpc: RpcClient,
    readonly db: DataSource,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<AuditHarness> {
    const namespace = testNamespace('aud');
    const nats = await connectTestNats(LOCAL_INFRA.natsUrl, namespace);
    const config = parseConfig('audit', service.needs, {
      TENANTRY_NAMESPACE: namespace,
      NATS_URL: LOCAL_INFRA.natsUrl,
      REDIS_URL: LOCAL_INFRA.redisUrl,
      DB_BOOTSTRAP_URL: LOCAL_INFRA.bootstrapUrl,
      DB_POOL_SIZE: '6',
      LOG_LEVEL: 'warn',
      AUDIT_CHECKPOINT_SECONDS: '1',
      ...env,
    });
    const app = await NestFactory.createApplicationContext(service.module(config), {
      logger: ['error', 'warn'],
      abortOnError: false,
    });
    const db = await new DataSource({
      type: 'postgres',
      host: SUPERUSER_URL.hostname,
      port: Number(SUPERUSER_URL.port || 5432),
      username: decodeURIComponent(SUPERUSER_URL.username),
      password: SUPERUSER_URL.password || undefined,
      database: new Namespace(namespace).database('audit'),
      installExtensions: false,
      extra: { max: 2 },
    }).initialize();
    return new AuditHarness(namespace, app, nats, new RpcClient(nats), db);
  }

  /**
   * Publishes events to the AUDIT stream as a publisher does (`audit.<tenantId>.<category>`,
   * Nats-Msg-Id = id), up to `inFlight` unacknowledged at once.
   */
  async publish(events: readonly AuditEvent[], inFlight = 256): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < events.length) {
        const event = events[next++]!;
        await this.nats.js.publish(
          this.nats.options.namespace.subject(auditSubject(event.tenantId, event.category)),
          encoder.encode(JSON.stringify(event)),
          { msgID: event.id },
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, events.length) }, worker));
  }

  /** How many entries the tenant's chain holds (read as the superuser, past row-level security). */
  async stored(tenantId: string): Promise<number> {
    const [row] = (await this.db.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1`,
      [tenantId],
    )) as { n: number }[];
    return row!.n;
  }

  /** Waits until the tenant's chain holds at least `count` entries. */
  async waitStored(tenantId: string, count: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${count} audit entries of tenant ${tenantId}`,
      async () => (await this.stored(tenantId)) >= count,
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** A request as the gateway sends it, acting as `actor` (`user:<id>`, `operator:<id>`) when given. */
  call<C extends RpcContract>(
    contract: C,
    payload: RpcRequest<C>,
    actor?: string,
  ): Promise<RpcResponse<C>> {
    return this.rpc.request(contract, payload, {
      context: newContext(actor ? { actor } : {}),
      timeoutMs: 60_000,
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

  /**
   * A request sent as raw JSON, past the client's own validation: what the service itself
   * answers to a malformed request. The reply's envelope, parsed.
   */
  async raw(
    subject: string,
    body: unknown,
  ): Promise<{ ok: boolean; data?: unknown; error?: ErrorBody }> {
    const reply = await this.nats.nc.request(
      this.nats.options.namespace.rpcSubject(subject),
      encoder.encode(JSON.stringify(body)),
      { timeout: 10_000 },
    );
    return reply.json();
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.db.destroy();
    await this.nats.drain().catch(() => undefined);
    await cleanupNamespace(this.namespace);
  }
}
