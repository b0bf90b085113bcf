import 'reflect-metadata';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Kvm } from '@nats-io/kv';
import {
  AppError,
  Namespace,
  PolicySnapshots,
  type AuditEvent,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
  type Tenant,
  type TenantStatus,
} from '@tenantry/contracts';
import { newContext, RpcClient, type NatsService } from '@tenantry/messaging';
import type { PolicyDocument } from '@tenantry/policy-engine';
import { parseConfig } from '@tenantry/runtime';
import {
  cleanupNamespace,
  connectTestNats,
  LOCAL_INFRA,
  testNamespace,
  waitFor,
  serveTenants,
} from '@tenantry/testing';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { service } from '../src/app.module.js';
import { testTenant } from './unit-doubles.js';

const SUPERUSER_URL = new URL(LOCAL_INFRA.bootstrapUrl);

export interface PolicyHarnessOptions {
  /** Extra environment for the policy service (POLICY_RECONCILE_SECONDS, ...). */
  env?: Record<string, string>;
}

/**
 * The policy service in this process (its real Nest module, as runService builds it, without
 * HTTP), on the machine's PostgreSQL and NATS in a namespace of its own; a stand-in for the
 * tenants service on NATS; an RPC client playing the gateway; a superuser connection to the
 * service's database for inspection; the snapshot bucket read back as a holder reads it.
 */
export class PolicyHarness {
  private readonly tenants = new Map<string, Tenant>();
  app!: INestApplicationContext;

  private constructor(
    readonly namespace: string,
    readonly nats: NatsService,
    readonly rpc: RpcClient,
    private readonly options: PolicyHarnessOptions,
  ) {}

  static async start(options: PolicyHarnessOptions = {}): Promise<PolicyHarness> {
    const namespace = testNamespace('pol');
    const nats = await connectTestNats(LOCAL_INFRA.natsUrl, namespace);
    const harness = new PolicyHarness(namespace, nats, new RpcClient(nats), options);
    serveTenants(harness.nats, harness.namespace, harness.tenants);
    await harness.startService();
    return harness;
  }

  /** Starts the service (again, after `stopService`: a restart). */
  async startService(): Promise<void> {
    const config = parseConfig('policy', service.needs, {
      TENANTRY_NAMESPACE: this.namespace,
      NATS_URL: LOCAL_INFRA.natsUrl,
      DB_BOOTSTRAP_URL: LOCAL_INFRA.bootstrapUrl,
      DB_POOL_SIZE: '4',
      LOG_LEVEL: 'warn',
      ...this.options.env,
    });
    this.app = await NestFactory.createApplicationContext(service.module(config), {
      logger: ['error', 'warn'],
      abortOnError: false,
    });
  }

  async stopService(): Promise<void> {
    await this.app.close();
  }

  get<T>(type: Type<T>): T {
    return this.app.get(type, { strict: false });
  }

  /** A tenant the stand-in tenants service knows, `active` unless told (no tenant.created event). */
  addTenant(
    slug = `t${Math.random().toString(36).slice(2, 8)}`,
    status: TenantStatus = 'active',
  ): Tenant {
    const tenant = testTenant(uuidv7(), status, slug);
    this.tenants.set(tenant.id, tenant);
    return tenant;
  }

  /** Changes a tenant's status as the tenants service would answer it. */
  setStatus(tenantId: string, status: TenantStatus): void {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) throw new Error(`no tenant ${tenantId}`);
    this.tenants.set(tenantId, { ...tenant, status });
  }

  /** A request as the gateway sends it, acting as `actor` (`user:<id>`, `operator:<id>`). */
  call<C extends RpcContract>(
    contract: C,
    payload: RpcRequest<C>,
    actor = 'user:01a00000-0000-7000-8000-0000000000ad',
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

  get bucketName(): string {
    return new Namespace(this.namespace).bucket(PolicySnapshots.bucket);
  }

  /** The tenant's snapshot as a holder reads it from the bucket; null when there is none. */
  async snapshot(tenantId: string): Promise<PolicyDocument | null> {
    const kv = await new Kvm(this.nats.js).open(this.bucketName);
    const entry = await kv.get(tenantId);
    return entry?.operation === 'PUT' ? entry.json<PolicyDocument>() : null;
  }

  /** Waits until the bucket holds `version` (or newer) of the tenant's policy, and returns it. */
  snapshotAt(tenantId: string, version: number): Promise<PolicyDocument> {
    return waitFor(
      `the snapshot of ${tenantId} at version ${version}`,
      async () => {
        const doc = await this.snapshot(tenantId).catch(() => null);
        return doc && doc.version >= version ? doc : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
  }

  async deleteSnapshot(tenantId: string): Promise<void> {
    const kv = await new Kvm(this.nats.js).open(this.bucketName);
    await kv.delete(tenantId);
  }

  /** A superuser query on the policy service's database (row-level security does not apply). */
  async sql<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    const db = await new DataSource({
      type: 'postgres',
      host: SUPERUSER_URL.hostname,
      port: Number(SUPERUSER_URL.port || 5432),
      username: decodeURIComponent(SUPERUSER_URL.username),
      password: SUPERUSER_URL.password || undefined,
      database: new Namespace(this.namespace).database('policy'),
      installExtensions: false,
      extra: { max: 1 },
    }).initialize();
    try {
      return (await db.query(text, values)) as T[];
    } finally {
      await db.destroy();
    }
  }

  /** Every audit event in the namespace's AUDIT stream so far matching `match`, waiting for `count`. */
  async auditEvents(match: (event: AuditEvent) => boolean, count = 1): Promise<AuditEvent[]> {
    const name = new Namespace(this.namespace).stream('AUDIT');
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

  async close(): Promise<void> {
    await this.app?.close().catch(() => undefined);
    // The bucket is a stream named KV_<bucket>.
    await this.nats.jsm.streams.delete(`KV_${this.bucketName}`).catch(() => undefined);
    await this.nats.drain().catch(() => undefined);
    await cleanupNamespace(this.namespace);
  }
}
