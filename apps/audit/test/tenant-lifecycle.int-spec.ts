/**
 * The audit service's part in a tenant's life (`audit.tenant-lifecycle.*`) against real
 * PostgreSQL and NATS: the genesis entry (first, once), the tenant's retention, verify,
 * usage and export, and the purge (compensate / remove) that leaves no row of the tenant in
 * any table, never touches the platform's chain, and refuses the events that arrive late.
 */
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_TENANT_SETTINGS,
  ErrorCode,
  Headers,
  Namespace,
  PLATFORM_TENANT_ID,
  TenantLifecycleRpc,
  AuditLedgerRpc,
  type AuditEvent,
  type BootstrapTenantRequest,
  type Quotas,
  type TenantProfile,
} from '@tenantry/contracts';
import { TenantTransactions } from '@tenantry/persistence';
import { waitFor } from '@tenantry/testing';
import { v7 as uuidv7 } from 'uuid';
import { genesisEventId } from '../src/ledger/genesis.js';
import { CheckpointSealer } from '../src/ledger/checkpoint.sealer.js';
import { AuditHarness } from './audit-search.harness.js';

const rpc = TenantLifecycleRpc.audit;
const DAY_MS = 24 * 60 * 60 * 1000;

const LIMITS: Quotas = {
  users: 5,
  apiCallsPerMinute: 60,
  apiCallsPerDay: 10_000,
  storageMb: null,
  customRoles: 0,
  ssoConnections: 0,
  meteredUnitsPerMonth: null,
  auditRetentionDays: 30,
};

function profile(tenantId: string, overrides: Partial<TenantProfile> = {}): TenantProfile {
  return {
    tenantId,
    slug: `t${tenantId.slice(-8)}`,
    name: 'Tenant',
    plan: 'free',
    settings: { ...DEFAULT_TENANT_SETTINGS },
    limits: LIMITS,
    features: [],
    roles: ['tenant-admin', 'member', 'viewer'],
    ...overrides,
  };
}

function bootstrapRequest(
  tenantId: string,
  overrides: Partial<TenantProfile> = {},
): BootstrapTenantRequest {
  return { ...profile(tenantId, overrides), runId: uuidv7(), admin: null };
}

function event(tenantId: string, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    schemaVersion: 1,
    id: randomUUID(),
    tenantId,
    occurredAt: new Date().toISOString(),
    category: 'users',
    action: 'user.created',
    outcome: 'success',
    actor: { type: 'user', id: 'u-1' },
    target: { type: 'user', id: randomUUID() },
    ...overrides,
  };
}

describe('audit tenant lifecycle (PostgreSQL + NATS)', () => {
  let h: AuditHarness;

  beforeAll(async () => {
    // The installation's retention (10 years) is the default for a tenant without its own.
    h = await AuditHarness.start({ AUDIT_RETENTION_DAYS: '3650' });
  });

  afterAll(async () => {
    await h?.close();
  });

  const sealer = () => h.app.get(CheckpointSealer, { strict: false });

  /** The tenant's entries in seq order, as stored. */
  const entries = (tenantId: string) =>
    h.db.query(
      `SELECT seq::int AS seq, id, category, action, actor_type, actor_id, data
         FROM audit_events WHERE tenant_id = $1 ORDER BY seq`,
      [tenantId],
    ) as Promise<
      {
        seq: number;
        id: string;
        category: string;
        action: string;
        actor_type: string;
        actor_id: string;
        data: Record<string, unknown> | null;
      }[]
    >;

  /** Every table of the audit database with a tenant_id column, and its rows of `tenantId`. */
  async function rowsOf(tenantId: string): Promise<Record<string, number>> {
    const tables = (await h.db.query(
      `SELECT table_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`,
    )) as { table_name: string }[];
    const counts: Record<string, number> = {};
    for (const { table_name } of tables) {
      const [row] = (await h.db.query(
        `SELECT count(*)::int AS n FROM "${table_name}" WHERE tenant_id = $1`,
        [tenantId],
      )) as { n: number }[];
      counts[table_name] = row!.n;
    }
    return counts;
  }

  /** A tenant with a bootstrapped chain of `more` entries after its genesis, sealed. */
  async function sealedTenant(more = 3): Promise<string> {
    const tenantId = uuidv7();
    await h.call(rpc.bootstrap, bootstrapRequest(tenantId));
    await h.publish(Array.from({ length: more }, () => event(tenantId)));
    await h.waitStored(tenantId, more + 1);
    await sealer().seal(tenantId);
    return tenantId;
  }

  it('bootstraps the genesis entry first, once, and registers the retention; verify passes', async () => {
    const tenantId = uuidv7();
    const request = bootstrapRequest(tenantId, {
      plan: 'starter',
      settings: { ...DEFAULT_TENANT_SETTINGS, auditRetentionDays: 90 },
    });
    const first = await h.call(rpc.bootstrap, request);
    expect(first.output).toEqual({
      genesis: 'appended',
      genesisId: genesisEventId(tenantId),
      genesisSeq: 1,
      retentionDays: 90,
    });
    const again = await h.call(rpc.bootstrap, request);
    expect(again.output).toMatchObject({ genesis: 'present', genesisSeq: 1 });

    await h.publish([event(tenantId)]);
    await h.waitStored(tenantId, 2);
    const chain = await entries(tenantId);
    expect(chain).toHaveLength(2);
    expect(chain[0]).toMatchObject({
      seq: 1,
      id: genesisEventId(tenantId),
      category: 'tenants',
      action: 'tenant.genesis',
      actor_type: 'service',
      actor_id: 'tenants',
      data: { slug: request.slug, plan: 'starter', runId: request.runId },
    });
    const [registered] = (await h.db.query(
      `SELECT retention_days FROM audit_tenants WHERE tenant_id = $1`,
      [tenantId],
    )) as { retention_days: number }[];
    expect(registered!.retention_days).toBe(90);

    const verified = await h.call(rpc.verify, request);
    expect(verified.output).toMatchObject({ genesisSeq: 1, checked: 2 });
    // Without its own setting the plan's retention counts; configure changes it.
    expect((await h.call(rpc.configure, profile(tenantId))).output).toEqual({
      retentionDays: 30,
    });
  });

  it("puts the genesis before the tenant's tenant.created when that opens the chain", async () => {
    const tenantId = uuidv7();
    const runId = uuidv7();
    const created = event(tenantId, {
      category: 'tenants',
      action: 'tenant.created',
      actor: { type: 'operator', id: 'op-1' },
      target: { type: 'tenant', id: tenantId },
      data: { name: 'Acme', slug: 'acme', plan: 'free', runId },
    });
    await h.publish([created, event(tenantId)]);
    await h.waitStored(tenantId, 3);
    expect((await entries(tenantId)).map((e) => [e.seq, e.action])).toEqual([
      [1, 'tenant.genesis'],
      [2, 'tenant.created'],
      [3, 'user.created'],
    ]);
    expect((await entries(tenantId))[0]!.data).toEqual({ slug: 'acme', plan: 'free', runId });

    // The run's audit step, later, finds it.
    const request = { ...bootstrapRequest(tenantId), runId };
    expect((await h.call(rpc.bootstrap, request)).output).toMatchObject({
      genesis: 'present',
      genesisSeq: 1,
    });
    expect(await h.stored(tenantId)).toBe(3);
    expect((await h.call(rpc.verify, request)).output).toMatchObject({ genesisSeq: 1 });
  });

  it('verify refuses a chain without genesis; usage counts the entries; export summarizes the chain', async () => {
    const bare = uuidv7();
    await h.publish([event(bare)]);
    await h.waitStored(bare, 1);
    expect(await h.failure(rpc.verify, bootstrapRequest(bare))).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_LIFECYCLE_GENESIS_MISSING',
    });
    expect(await h.call(rpc.suspend, { tenantId: bare, reason: 'unpaid' })).toEqual({
      output: {},
    });

    const tenantId = await sealedTenant(4);
    expect(await h.call(rpc.usage, { tenantId })).toEqual({ usage: { auditEntries: 5 } });
    const { data } = await h.call(rpc.export, { tenantId });
    const [head] = (await h.db.query(
      `SELECT encode(hash, 'hex') AS hash FROM audit_heads WHERE tenant_id = $1`,
      [tenantId],
    )) as { hash: string }[];
    expect(data.audit_chain).toEqual([
      {
        entries: 5,
        headSeq: 5,
        headHash: head!.hash,
        retentionDays: 30,
        latestCheckpoint: {
          checkpoint: expect.objectContaining({ tenantId, treeSize: 5, kind: 'checkpoint' }),
          signature: expect.any(String),
        },
      },
    ]);
    expect((await h.call(rpc.export, { tenantId: uuidv7() })).data).toEqual({ audit_chain: [] });
  });

  it('remove purges the chain, its checkpoints and sinks, leaving no row of the tenant; another chain still verifies', async () => {
    const other = await sealedTenant(3);
    const otherBefore = await entries(other);
    const tenantId = await sealedTenant(5);
    // A sink (not due for a day) with a dead letter.
    const sinkId = uuidv7();
    await h.db.query(
      `INSERT INTO audit_sinks (id, tenant_id, name, type, url, secret, enabled, batch_size,
                                max_attempts, created_at, updated_at)
       VALUES ($1, $2, 'siem', 'webhook', 'https://siem.example.com/hook', 's3cret', true, 100, 5,
               now(), now())`,
      [sinkId, tenantId],
    );
    await h.db.query(
      `INSERT INTO audit_sink_queue (sink_id, tenant_id, next_attempt_at) VALUES ($1, $2, now() + interval '1 day')`,
      [sinkId, tenantId],
    );
    await h.db.query(
      `INSERT INTO audit_sink_dead_letters (id, tenant_id, sink_id, first_seq, last_seq, events,
                                            attempts, last_error, created_at)
       VALUES ($1, $2, $3, 1, 2, 2, 5, 'refused', now())`,
      [uuidv7(), tenantId, sinkId],
    );
    const before = await rowsOf(tenantId);
    expect(before).toMatchObject({
      audit_events: 6,
      audit_leaves: 6,
      audit_heads: 1,
      audit_tenants: 1,
      audit_sinks: 1,
      audit_sink_queue: 1,
      audit_sink_dead_letters: 1,
    });
    expect(before.audit_checkpoints).toBeGreaterThanOrEqual(1);

    const { removed } = await h.call(rpc.remove, { tenantId });
    expect(removed).toEqual(before);
    expect(Object.values(await rowsOf(tenantId)).every((n) => n === 0)).toBe(true);
    expect((await h.call(rpc.remove, { tenantId })).removed).toEqual(
      Object.fromEntries(Object.keys(before).map((table) => [table, 0])),
    );

    expect(await entries(other)).toEqual(otherBefore);
    const verified = await h.call(AuditLedgerRpc.verify, { tenantId: other });
    expect(verified.ok).toBe(true);
  });

  it('refuses an event that arrives after the purge (parked, no new chain); a new bootstrap opens the chain again', async () => {
    const tenantId = await sealedTenant(2);
    const request = bootstrapRequest(tenantId);
    const { output } = await h.call(rpc.compensate, request);
    expect(output.removed).toMatchObject({ audit_events: 3, audit_heads: 1, audit_tenants: 1 });

    const late = event(tenantId, { action: 'user.deleted' });
    const marker = event(uuidv7());
    await h.publish([late, marker]);
    await h.waitStored(marker.tenantId, 1);
    const parked = await waitFor(
      'the late event parked',
      async () => (await parkedEvents()).find((p) => p.id === late.id),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(parked.reason).toMatch(/audit chain of tenant .* was purged/);
    expect(Object.values(await rowsOf(tenantId)).every((n) => n === 0)).toBe(true);

    // Provisioned again (a failed tenant's new run): a new chain, starting with its genesis.
    expect((await h.call(rpc.bootstrap, request)).output).toMatchObject({
      genesis: 'appended',
      genesisSeq: 1,
      reopened: true,
    });
    await h.publish([event(tenantId)]);
    await h.waitStored(tenantId, 2);
    expect((await h.call(rpc.verify, request)).output).toMatchObject({ genesisSeq: 1 });
  });

  it("never purges the platform tenant's chain: not through the RPCs, not through the function, not by hand", async () => {
    await h.publish([event(PLATFORM_TENANT_ID), event(PLATFORM_TENANT_ID)]);
    await h.waitStored(PLATFORM_TENANT_ID, 2);
    const before = await rowsOf(PLATFORM_TENANT_ID);

    for (const error of [
      await h.failure(rpc.remove, { tenantId: PLATFORM_TENANT_ID }),
      await h.failure(rpc.compensate, bootstrapRequest(PLATFORM_TENANT_ID)),
      await h.failure(rpc.bootstrap, bootstrapRequest(PLATFORM_TENANT_ID)),
    ])
      expect(error).toMatchObject({
        code: ErrorCode.Conflict,
        reason: 'TENANT_LIFECYCLE_PLATFORM_TENANT',
      });

    // The service's own database role: the function refuses, and the role may not delete.
    const tx = h.app.get(TenantTransactions, { strict: false });
    await expect(
      tx.run(PLATFORM_TENANT_ID, (m) =>
        m.query(`SELECT audit_purge_tenant($1)`, [PLATFORM_TENANT_ID]),
      ),
    ).rejects.toThrow(/platform tenant's chain is never purged/);
    await expect(
      tx.run(PLATFORM_TENANT_ID, (m) =>
        m.query(`DELETE FROM audit_events WHERE tenant_id = $1`, [PLATFORM_TENANT_ID]),
      ),
    ).rejects.toThrow(/permission denied/);
    // As the owner (whom the trigger lets purge), with the purge switch naming the tenant: a
    // tenant's leaves go (rolled back here), the platform's never.
    const [{ owner }] = (await h.db.query(
      `SELECT r.rolname AS owner FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE c.relname = 'audit_leaves'`,
    )) as { owner: string }[];
    const other = await sealedTenant(1);
    const deleteAsOwner = (tenantId: string) =>
      h.db.transaction(async (m) => {
        await m.query(`SET LOCAL ROLE "${owner}"`);
        await m.query(
          `SELECT set_config('app.tenant_id', $1, true), set_config('tenantry.audit_purge', $1, true)`,
          [tenantId],
        );
        const [, count] = (await m.query(`DELETE FROM audit_leaves WHERE tenant_id = $1`, [
          tenantId,
        ])) as [unknown, number];
        throw new Error(`rolled back after deleting ${count} leaves`);
      });
    await expect(deleteAsOwner(other)).rejects.toThrow('rolled back after deleting 2 leaves');
    await expect(deleteAsOwner(PLATFORM_TENANT_ID)).rejects.toThrow(
      /append-only: DELETE on audit_leaves refused/,
    );
    expect(await h.stored(other)).toBe(2);

    expect(await rowsOf(PLATFORM_TENANT_ID)).toEqual(before);
    expect((await h.call(AuditLedgerRpc.verify, { tenantId: PLATFORM_TENANT_ID })).ok).toBe(true);
  });

  it("prunes by the tenant's own retention, else the installation's; 0 keeps everything", async () => {
    const short = await sealedTenant(3); // retention 1 day (its settings)
    await h.call(
      rpc.configure,
      profile(short, { settings: { ...DEFAULT_TENANT_SETTINGS, auditRetentionDays: 1 } }),
    );
    const forever = await sealedTenant(3); // unlimited: kept forever
    await h.call(
      rpc.configure,
      profile(forever, { limits: { ...LIMITS, auditRetentionDays: null } }),
    );
    const plain = uuidv7(); // no lifecycle: the installation's 3650 days
    await h.publish([event(plain), event(plain)]);
    await h.waitStored(plain, 2);
    await sealer().seal(plain);

    const now = Date.now();
    await sealer().runRetention(new Date(now + 2 * DAY_MS));
    expect(await h.stored(short)).toBe(0);
    expect(await h.stored(forever)).toBe(4);
    expect(await h.stored(plain)).toBe(2);
    const [tombstone] = (await h.db.query(
      `SELECT kind, pruned_through_seq::int AS through FROM audit_checkpoints
        WHERE tenant_id = $1 AND kind = 'tombstone'`,
      [short],
    )) as { kind: string; through: number }[];
    expect(tombstone).toEqual({ kind: 'tombstone', through: 4 });
    expect((await h.call(AuditLedgerRpc.verify, { tenantId: short })).ok).toBe(true);

    await sealer().runRetention(new Date(now + 3651 * DAY_MS));
    expect(await h.stored(plain)).toBe(0);
    expect(await h.stored(forever)).toBe(4);
  });

  /** The events the audit consumer parked in this namespace, with the reason. */
  async function parkedEvents(): Promise<{ id: string; reason: string }[]> {
    const name = new Namespace(h.namespace).stream('PARKED');
    const info = await h.nats.jsm.streams.info(name);
    const found: { id: string; reason: string }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const message = await h.nats.jsm.streams.getMessage(name, { seq }).catch(() => null);
      if (!message) continue;
      const reason = message.header?.get(Headers.parkedReason) ?? '';
      found.push({ id: message.json<{ id: string }>().id, reason });
    }
    return found;
  }
});
