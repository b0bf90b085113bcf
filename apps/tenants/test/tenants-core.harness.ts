import 'reflect-metadata';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Kvm } from '@nats-io/kv';
import type { Subscription } from '@nats-io/transport-node';
import {
  AppError,
  Namespace,
  TENANT_ACCESS_BUCKET,
  TENANT_PARTICIPANTS,
  TenantLifecycleRpc,
  type AuditEvent,
  type CreateTenantRequest,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
  type Tenant,
  type TenantAccess,
  type TenantParticipant,
  type TenantProfile,
} from '@tenantry/contracts';
import { newContext, RpcClient, type NatsService } from '@tenantry/messaging';
import { TenantTransactions } from '@tenantry/persistence';
import { parseConfig } from '@tenantry/runtime';
import {
  cleanupNamespace,
  connectTestNats,
  LOCAL_INFRA,
  testNamespace,
  waitFor,
} from '@tenantry/testing';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { service } from '../src/app.module.js';
import { TenantMaintenance } from '../src/tenants/tenant-maintenance.js';
import { TenantService } from '../src/tenants/tenant.service.js';

const SUPERUSER_URL = new URL(LOCAL_INFRA.bootstrapUrl);
export const OPERATOR = 'operator:01a00000-0000-7000-8000-000000000001';

/**
 * Stands in for the participants (identity, policy, audit) on NATS: answers their
 * `tenant-lifecycle.usage` with what the test says each counts for a tenant, and records
 * every `configure`. A participant marked down stops answering (no responders), as a service
 * that is not running.
 */
export class FakeParticipants {
  readonly usage = new Map<string, Partial<Record<TenantParticipant, Record<string, number>>>>();
  readonly configured: { service: TenantParticipant; profile: TenantProfile }[] = [];
  private readonly subscriptions = new Map<TenantParticipant, Subscription[]>();

  constructor(
    private readonly nats: NatsService,
    private readonly namespace: Namespace,
  ) {
    for (const participant of TENANT_PARTICIPANTS) this.up(participant);
  }

  /** What `participant` counts for the tenant from now on. */
  count(tenantId: string, participant: TenantParticipant, usage: Record<string, number>): void {
    this.usage.set(tenantId, { ...this.usage.get(tenantId), [participant]: usage });
  }

  /** The profiles `configure` told about the tenant, oldest first (one per participant and call). */
  profiles(tenantId: string): TenantProfile[] {
    return this.configured.filter((c) => c.profile.tenantId === tenantId).map((c) => c.profile);
  }

  down(participant: TenantParticipant): void {
    for (const subscription of this.subscriptions.get(participant) ?? [])
      subscription.unsubscribe();
    this.subscriptions.delete(participant);
  }

  up(participant: TenantParticipant): void {
    if (this.subscriptions.has(participant)) return;
    const rpcs = TenantLifecycleRpc[participant];
    const decoder = new TextDecoder();
    const usage = this.nats.nc.subscribe(this.namespace.rpcSubject(rpcs.usage.subject), {
      callback: (error, msg) => {
        if (error) return;
        const { tenantId } = JSON.parse(decoder.decode(msg.data)) as { tenantId: string };
        msg.respond(
          JSON.stringify({
            ok: true,
            data: { usage: this.usage.get(tenantId)?.[participant] ?? {} },
          }),
        );
      },
    });
    const configure = this.nats.nc.subscribe(this.namespace.rpcSubject(rpcs.configure.subject), {
      callback: (error, msg) => {
        if (error) return;
        const profile = JSON.parse(decoder.decode(msg.data)) as TenantProfile;
        this.configured.push({ service: participant, profile });
        msg.respond(JSON.stringify({ ok: true, data: { output: { configured: true } } }));
      },
    });
    this.subscriptions.set(participant, [usage, configure]);
  }
}

/**
 * The tenants service in this process (its real Nest module, as runService builds it,
 * without HTTP) on the machine's PostgreSQL and NATS in a namespace of its own; stand-ins
 * for the participants on NATS; an RPC client playing the gateway; a superuser connection to
 * its database; the TENANT_ACCESS bucket read back as the gateway reads it.
 */
export class TenantsHarness {
  app!: INestApplicationContext;
  readonly ns: Namespace;
  readonly participants: FakeParticipants;

  private constructor(
    readonly namespace: string,
    readonly nats: NatsService,
    readonly rpc: RpcClient,
  ) {
    this.ns = new Namespace(namespace);
    this.participants = new FakeParticipants(nats, this.ns);
  }

  static async start(env: Record<string, string> = {}): Promise<TenantsHarness> {
    const namespace = testNamespace('ten');
    const nats = await connectTestNats(LOCAL_INFRA.natsUrl, namespace);
    const harness = new TenantsHarness(namespace, nats, new RpcClient(nats));
    const config = parseConfig('tenants', service.needs, {
      TENANTRY_NAMESPACE: namespace,
      NATS_URL: LOCAL_INFRA.natsUrl,
      DB_BOOTSTRAP_URL: LOCAL_INFRA.bootstrapUrl,
      REDIS_URL: LOCAL_INFRA.redisUrl,
      DB_POOL_SIZE: '4',
      LOG_LEVEL: 'warn',
      TENANTRY_REGIONS: 'local,eu-central',
      // The tests run passes themselves (runOnce); the loop's own come rarely.
      TENANT_MAINTENANCE_SECONDS: '3600',
      ...env,
    });
    harness.app = await NestFactory.createApplicationContext(service.module(config), {
      logger: ['error', 'warn'],
      abortOnError: false,
    });
    // The loop's first pass runs at start: let it end, so that it never takes the work of a
    // test's own pass (CI once saw it configure a tenant a test's runOnce was to configure).
    await waitFor('the maintenance loop’s first pass', async () => harness.maintenance.passes > 0);
    return harness;
  }

  get<T>(type: Type<T>): T {
    return this.app.get(type, { strict: false });
  }

  get tenants(): TenantService {
    return this.get(TenantService);
  }

  get maintenance(): TenantMaintenance {
    return this.get(TenantMaintenance);
  }

  /**
   * A tenant as provisioning makes it: inserted `provisioning` through
   * `TenantService.insertProvisioning` in a transaction, then (unless `status` says
   * otherwise) moved to `active` with `transition`.
   */
  async createTenant(
    request: Partial<CreateTenantRequest> & { slug: string },
    status: 'provisioning' | 'active' = 'active',
  ): Promise<Tenant> {
    const runId = uuidv7();
    const inserted = await this.get(TenantTransactions).runGlobal((manager) =>
      this.tenants.insertProvisioning(
        manager,
        { name: `Tenant ${request.slug}`, plan: 'free', isolation: 'rls', ...request },
        runId,
      ),
    );
    await this.tenants.afterCommit(inserted.id);
    if (status === 'provisioning') return inserted;
    return this.tenants.transition(inserted.id, 'active', { from: ['provisioning'], runId });
  }

  /** A request as the gateway sends it, acting as `actor`. */
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

  /** The AppError `work` fails with (fails the test if it succeeds). */
  static async rejection(work: Promise<unknown>): Promise<AppError> {
    try {
      await work;
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
    throw new Error('the call succeeded, but the test expected it to fail');
  }

  /** The tenant's entry in the TENANT_ACCESS bucket as the gateway reads it; null when none. */
  async access(tenantId: string): Promise<TenantAccess | null> {
    const kv = await new Kvm(this.nats.js).open(this.ns.bucket(TENANT_ACCESS_BUCKET));
    const entry = await kv.get(tenantId);
    return entry?.operation === 'PUT' ? entry.json<TenantAccess>() : null;
  }

  /** Waits until the tenant's access entry satisfies `match`, and returns it. */
  accessWhere(tenantId: string, match: (access: TenantAccess) => boolean): Promise<TenantAccess> {
    return waitFor(
      `the access state of ${tenantId}`,
      async () => {
        const access = await this.access(tenantId).catch(() => null);
        return access && match(access) ? access : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  /** A superuser query on the tenants database (row-level security does not apply). */
  async sql<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    const db = await new DataSource({
      type: 'postgres',
      host: SUPERUSER_URL.hostname,
      port: Number(SUPERUSER_URL.port || 5432),
      username: decodeURIComponent(SUPERUSER_URL.username),
      password: SUPERUSER_URL.password || undefined,
      database: this.ns.database('tenants'),
      installExtensions: false,
      extra: { max: 1 },
    }).initialize();
    try {
      return (await db.query(text, values)) as T[];
    } finally {
      await db.destroy();
    }
  }

  /** Audit events in the namespace's AUDIT stream matching `match`, waiting for `count`. */
  async auditEvents(match: (event: AuditEvent) => boolean, count = 1): Promise<AuditEvent[]> {
    const name = this.ns.stream('AUDIT');
    return waitFor(
      `${count} matching audit event(s)`,
      async () => {
        const info = await this.nats.jsm.streams.info(name);
        const found: AuditEvent[] = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const message = await this.nats.jsm.streams.getMessage(name, { seq }).catch(() => null);
          const event = message?.json<AuditEvent>();
          if (event && match(event)) found.push(event);
        }
        return found.length >= count && found;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  /** Domain events on the namespace's EVENTS stream with this subject (no namespace), waiting for `count`. */
  async events<T = Tenant>(subject: string, count = 1): Promise<T[]> {
    const name = this.ns.stream('EVENTS');
    const wanted = this.ns.subject(subject);
    return waitFor(
      `${count} event(s) on ${subject}`,
      async () => {
        const info = await this.nats.jsm.streams.info(name);
        const found: T[] = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const message = await this.nats.jsm.streams.getMessage(name, { seq }).catch(() => null);
          if (message?.subject === wanted) found.push(message.json<T>());
        }
        return found.length >= count && found;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  async close(): Promise<void> {
    await this.app?.close().catch(() => undefined);
    await this.nats.drain().catch(() => undefined);
    await cleanupNamespace(this.namespace);
  }
}
