import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Subscription } from '@nats-io/transport-node';
import {
  AppError,
  AuditReportRpc,
  ErrorCode,
  Namespace,
  SessionRpc,
  TenantPolicyRpc,
  UserRpc,
  type AccessReviewReport,
  type AuditEvent,
  type ConfigurationChangesReport,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
  type Session,
  type SubjectAccessReport,
  type User,
} from '@tenantry/contracts';
import { EventPublisher, newContext, RpcClient, type NatsService } from '@tenantry/messaging';
import { defaultPolicy, type PolicyDocument } from '@tenantry/policy-engine';
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
import { REPORT_LIST_LIMIT } from '../src/reports/report.service.js';

/**
 * The reports against the real audit service (its Nest module, in this process) on the
 * machine's PostgreSQL and NATS: events go into the ledger through the AUDIT stream (the
 * consumer appends them), identity and the policy service are stood in for by small real
 * RPC responders on NATS, and the reports are asked for over NATS as the gateway does.
 */

const DAY = 86_400_000;
const NOW = Date.now();
const at = (daysAgo: number, minutes = 0) =>
  new Date(NOW - daysAgo * DAY + minutes * 60_000).toISOString();
const FROM = at(10);
const TO = at(1);

const SUPERUSER_URL = new URL(LOCAL_INFRA.bootstrapUrl);
const HOSTILE_NAME = '<script>alert("x")</script> Carol';
const HOSTILE_SSO_NAME = 'Okta <b>"prod"</b>';

interface Tenant {
  id: string;
  users: User[];
  sessions: Map<string, Session[]>;
  policy: PolicyDocument;
}

function user(tenantId: string, email: string, displayName: string, roles: string[]): User {
  const created = at(30);
  return {
    id: uuidv7(),
    tenantId,
    email,
    displayName,
    status: 'active',
    roles,
    mfaEnabled: false,
    createdAt: created,
    updatedAt: created,
    lastLoginAt: null,
  };
}

/** Stand-ins for identity (users, sessions) and the policy service (the tenant's policy). */
class StandIns {
  private identitySubs: Subscription[] = [];
  private policySubs: Subscription[] = [];
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly nats: NatsService,
    private readonly ns: Namespace,
    private readonly tenants: Map<string, Tenant>,
  ) {}

  startIdentity(): void {
    this.identitySubs = [
      this.serve(UserRpc.list, (req: { tenantId: string }) => ({
        items: this.tenants.get(req.tenantId)?.users ?? [],
        nextCursor: null,
      })),
      this.serve(UserRpc.get, (req: { tenantId: string; userId: string }) => {
        const found = this.tenants.get(req.tenantId)?.users.find((u) => u.id === req.userId);
        if (!found) throw new AppError(ErrorCode.NotFound, `user ${req.userId} does not exist`);
        return found;
      }),
      this.serve(SessionRpc.list, (req: { tenantId: string; userId: string }) => ({
        items: this.tenants.get(req.tenantId)?.sessions.get(req.userId) ?? [],
      })),
    ];
  }

  stopIdentity(): void {
    this.identitySubs.forEach((sub) => sub.unsubscribe());
    this.identitySubs = [];
  }

  startPolicy(): void {
    this.policySubs = [
      this.serve(TenantPolicyRpc.get, (req: { tenantId: string }) => {
        const tenant = this.tenants.get(req.tenantId);
        if (!tenant) throw new AppError(ErrorCode.NotFound, 'no such tenant');
        return {
          tenantId: tenant.id,
          version: tenant.policy.version,
          publishedVersion: tenant.policy.version,
          updatedAt: at(2),
          document: tenant.policy,
        };
      }),
    ];
  }

  stopPolicy(): void {
    this.policySubs.forEach((sub) => sub.unsubscribe());
    this.policySubs = [];
  }

  /** Answers `contract` in the namespace: `{ ok, data }`, or the AppError thrown as `{ ok: false }`. */
  private serve<Req>(contract: RpcContract, answer: (request: Req) => unknown): Subscription {
    return this.nats.nc.subscribe(this.ns.rpcSubject(contract.subject), {
      callback: (error, msg) => {
        if (error) return;
        let reply: unknown;
        try {
          reply = { ok: true, data: answer(JSON.parse(this.decoder.decode(msg.data)) as Req) };
        } catch (failure) {
          if (!(failure instanceof AppError)) throw failure;
          reply = { ok: false, error: failure.toBody() };
        }
        msg.respond(JSON.stringify(reply));
      },
    });
  }
}

describe('audit reports (real audit service, PostgreSQL and NATS; identity and policy stood in for)', () => {
  const namespace = testNamespace('rep');
  const ns = new Namespace(namespace);
  const tenants = new Map<string, Tenant>();
  let app: INestApplicationContext;
  let nats: NatsService;
  let rpc: RpcClient;
  let db: DataSource;
  let standIns: StandIns;

  // Tenant T: alice (admin) promotes bob to admin; carol is an admin who never signs in.
  const T = uuidv7();
  const alice = user(T, 'alice@example.test', 'Alice Admin', ['tenant-admin']);
  const bob = user(T, 'bob@example.test', 'Bob', ['tenant-admin']);
  const carol = user(T, 'carol@example.test', HOSTILE_NAME, ['tenant-admin']);
  const dave = user(T, 'dave@example.test', 'Dave', ['member']);
  const apiKeyId = uuidv7();
  const bobBinding = {
    id: 'b-bob-auditor',
    roleId: 'auditor',
    subject: { type: 'user' as const, id: bob.id },
  };
  const bobSession: Session = {
    id: uuidv7(),
    tenantId: T,
    userId: bob.id,
    createdAt: at(6),
    lastUsedAt: at(5),
    expiresAt: at(-20),
    revokedAt: null,
    amr: ['pwd'],
    ip: '192.0.2.7',
    userAgent: 'report-int-spec',
  };
  // Tenant U: one user with more events than a report lists.
  const U = uuidv7();
  const erin = user(U, 'erin@example.test', 'Erin', ['member']);
  const ERIN_SIGN_INS = REPORT_LIST_LIMIT + 3;

  function event(tenantId: string, fields: Partial<AuditEvent> & Pick<AuditEvent, 'action'>) {
    return {
      schemaVersion: 1,
      id: uuidv7(),
      tenantId,
      occurredAt: at(5),
      category: 'auth',
      outcome: 'success',
      actor: { type: 'user', id: alice.id },
      ...fields,
    } as AuditEvent;
  }

  const signIn = (who: User, when: string) =>
    event(T, {
      action: 'login.succeeded',
      occurredAt: when,
      actor: { type: 'user', id: who.id },
      target: { type: 'user', id: who.id },
      data: { sessionId: uuidv7(), amr: ['pwd'], ip: '192.0.2.1' },
    });
  const failedSignIn = (who: User, when: string, failure: string) =>
    event(T, {
      action: 'login.failed',
      outcome: 'failure',
      occurredAt: when,
      actor: { type: 'user', id: who.id },
      target: { type: 'user', id: who.id },
      data: { failure, ip: '192.0.2.9' },
    });

  const promotion = event(T, {
    action: 'user.updated',
    category: 'users',
    occurredAt: at(5),
    target: { type: 'user', id: bob.id },
    data: { changed: { roles: ['tenant-admin'] } },
    changes: { before: { roles: ['member'] }, after: { roles: ['tenant-admin'] } },
  });
  const bindingCreated = event(T, {
    action: 'role-binding.created',
    category: 'policy',
    occurredAt: at(5, 1),
    target: { type: 'role-binding', id: bobBinding.id },
    data: { before: null, after: bobBinding, policyVersion: 2 },
  });
  const keyCreated = event(T, {
    action: 'api_key.created',
    category: 'api_keys',
    occurredAt: at(5, 2),
    target: { type: 'api_key', id: apiKeyId },
    data: { name: 'CI key', prefix: 'tnty_ab12', scopes: ['audit:read'] },
  });
  const ssoChanged = event(T, {
    action: 'sso_connection.updated',
    occurredAt: at(5, 3),
    target: { type: 'sso_connection', id: uuidv7() },
    data: { changed: ['name'] },
    changes: { before: { name: 'Okta' }, after: { name: HOSTILE_SSO_NAME } },
  });
  const settingsChanged = event(T, {
    action: 'auth-settings.updated',
    occurredAt: at(5, 4),
    target: { type: 'tenant', id: T },
    data: { changed: { mfaRequired: true } },
  });
  const tenantEvents: AuditEvent[] = [
    signIn(alice, at(9)),
    signIn(alice, at(8)),
    signIn(alice, at(15)), // before the period
    failedSignIn(bob, at(7), 'wrong_password'),
    failedSignIn(bob, at(7, 1), 'wrong_password'),
    failedSignIn(bob, at(7, 2), 'account_locked'),
    signIn(bob, at(6)),
    promotion,
    bindingCreated,
    keyCreated,
    ssoChanged,
    settingsChanged,
    event(T, {
      action: 'login.failed',
      outcome: 'failure',
      occurredAt: at(4),
      actor: { type: 'system', id: 'identity' },
      data: { failure: 'unknown_account', emailSha256: 'ab'.repeat(32) },
    }),
    event(T, {
      action: 'authz.denied',
      category: 'authz',
      outcome: 'failure',
      occurredAt: at(4, 1),
      actor: { type: 'user', id: bob.id },
      target: { type: 'users', id: 'users' },
      data: {
        permission: 'users:write',
        reason: { kind: 'no-grant', message: 'no role grants users:write' },
      },
    }),
    event(T, {
      action: 'invoice.created',
      category: 'billing',
      occurredAt: at(3),
      actor: { type: 'api_key', id: apiKeyId, name: 'CI key' },
      target: { type: 'invoice', id: 'inv-1' },
    }),
    event(T, {
      action: 'api_key.first_used',
      category: 'api_keys',
      occurredAt: at(3, 1),
      actor: { type: 'api_key', id: apiKeyId },
      target: { type: 'api_key', id: apiKeyId },
    }),
    event(T, {
      action: 'project.created',
      category: 'projects',
      occurredAt: at(3, 2),
      target: { type: 'project', id: 'p-1' },
    }),
    signIn(alice, at(0.5)), // after the period
  ];

  function call<C extends RpcContract>(contract: C, payload: RpcRequest<C>, actor = alice.id) {
    return rpc.request(contract, payload, {
      context: newContext({ actor: `user:${actor}` }),
      timeoutMs: 30_000,
    }) as Promise<RpcResponse<C>>;
  }

  async function json<R>(reply: Promise<{ format: string; report?: unknown }>): Promise<R> {
    const result = await reply;
    if (result.format !== 'json') throw new Error(`expected JSON, got ${result.format}`);
    return result.report as R;
  }

  async function html(reply: Promise<{ format: string; html?: string }>): Promise<string> {
    const result = await reply;
    if (result.format !== 'html') throw new Error(`expected HTML, got ${result.format}`);
    return result.html!;
  }

  /** A request as it arrives over NATS, without the client's own validation. */
  async function raw(subject: string, body: unknown): Promise<Record<string, unknown>> {
    const reply = await nats.nc.request(ns.rpcSubject(subject), JSON.stringify(body), {
      timeout: 10_000,
    });
    return JSON.parse(reply.string()) as Record<string, unknown>;
  }

  async function rows(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    return (await db.query(sql, params)) as Record<string, unknown>[];
  }

  async function publish(events: AuditEvent[]): Promise<void> {
    const publisher = new EventPublisher(nats);
    for (let i = 0; i < events.length; i += 100)
      await Promise.all(events.slice(i, i + 100).map((e) => publisher.publishAudit(e)));
  }

  async function stored(tenantId: string, count: number): Promise<void> {
    await waitFor(
      `${count} events of tenant ${tenantId} in the ledger`,
      async () => {
        const [row] = await rows(
          `SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1`,
          [tenantId],
        );
        return Number(row!.n) >= count;
      },
      { timeoutMs: 45_000, intervalMs: 200 },
    );
  }

  beforeAll(async () => {
    nats = await connectTestNats(LOCAL_INFRA.natsUrl, namespace);
    rpc = new RpcClient(nats);
    tenants.set(T, {
      id: T,
      users: [alice, bob, carol, dave],
      sessions: new Map([[bob.id, [bobSession]]]),
      policy: (() => {
        const policy = defaultPolicy(T);
        return { ...policy, version: 2, bindings: [...policy.bindings, bobBinding] };
      })(),
    });
    tenants.set(U, { id: U, users: [erin], sessions: new Map(), policy: defaultPolicy(U) });
    standIns = new StandIns(nats, ns, tenants);
    standIns.startIdentity();
    standIns.startPolicy();

    const config = parseConfig('audit', service.needs, {
      TENANTRY_NAMESPACE: namespace,
      NATS_URL: LOCAL_INFRA.natsUrl,
      DB_BOOTSTRAP_URL: LOCAL_INFRA.bootstrapUrl,
      DB_POOL_SIZE: '6',
      LOG_LEVEL: 'warn',
      NATS_REQUEST_TIMEOUT_MS: '3000',
      AUDIT_CHECKPOINT_SECONDS: '1',
    });
    app = await NestFactory.createApplicationContext(service.module(config), {
      logger: ['error', 'warn'],
      abortOnError: false,
    });
    await app.init();
    db = await new DataSource({
      type: 'postgres',
      host: SUPERUSER_URL.hostname,
      port: Number(SUPERUSER_URL.port || 5432),
      username: decodeURIComponent(SUPERUSER_URL.username),
      password: SUPERUSER_URL.password || undefined,
      database: ns.database('audit'),
      installExtensions: false,
      extra: { max: 2 },
    }).initialize();

    await publish(tenantEvents);
    await publish(
      Array.from({ length: ERIN_SIGN_INS }, (_, i) =>
        event(U, {
          action: 'login.succeeded',
          occurredAt: at(9, i),
          actor: { type: 'user', id: erin.id },
          target: { type: 'user', id: erin.id },
        }),
      ),
    );
    await stored(T, tenantEvents.length);
    await stored(U, ERIN_SIGN_INS);
    // The chains sealed: a signed checkpoint over every event published.
    await waitFor(
      'a checkpoint of tenant T',
      async () => {
        const [row] = await rows(
          `SELECT coalesce(max(tree_size), 0)::int AS size FROM audit_checkpoints WHERE tenant_id = $1`,
          [T],
        );
        return Number(row!.size) >= tenantEvents.length;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await db?.destroy();
    await nats?.drain();
    await cleanupNamespace(namespace);
  }, 60_000);

  /** The checkpoint row with the report's tree size, as the report shows it. */
  async function checkpointOf(tenantId: string, treeSize: number) {
    const [row] = await rows(
      `SELECT encode(root_hash, 'hex') AS root_hash, key_id, issued_at FROM audit_checkpoints
        WHERE tenant_id = $1 AND tree_size = $2 ORDER BY issued_at DESC LIMIT 1`,
      [tenantId, treeSize],
    );
    return row;
  }

  it('access review: roles, use, failed sign-ins, privilege changes and unused admin rights', async () => {
    const report = await json<AccessReviewReport>(
      call(AuditReportRpc.accessReview, { tenantId: T, from: FROM, to: TO }),
    );
    expect(report.kind).toBe('access-review');
    expect(report.missingSections).toEqual([]);
    expect(report.period).toEqual({ from: FROM, to: TO });
    expect(report.generatedBy).toEqual({ type: 'user', id: alice.id });

    // Tied to the signed ledger: the checkpoint is one the service really issued.
    expect(report.ledger.throughSeq).toBeGreaterThanOrEqual(tenantEvents.length);
    const checkpoint = report.ledger.checkpoint!;
    expect(checkpoint.treeSize).toBeGreaterThanOrEqual(tenantEvents.length);
    const stored = await checkpointOf(T, checkpoint.treeSize);
    expect(checkpoint.rootHash).toBe(stored!.root_hash);
    expect(checkpoint.keyId).toBe(stored!.key_id);

    const byId = new Map(report.users!.items.map((u) => [u.id, u]));
    expect(report.users!.items.map((u) => u.email)).toEqual([
      'alice@example.test',
      'bob@example.test',
      'carol@example.test',
      'dave@example.test',
    ]); // admins first
    expect(report.users!.truncated).toBeNull();

    const a = byId.get(alice.id)!;
    expect(a.admin).toBe(true);
    expect(a.activity.signIns).toEqual({
      count: 2, // the one before and the one after the period do not count
      last: at(8),
      failed: { count: 0, last: null, reasons: {} },
    });
    expect(a.activity.actions).toBe(6); // 5 changes and a project; sign-ins aside

    const b = byId.get(bob.id)!;
    expect(b.activity.signIns).toEqual({
      count: 1,
      last: at(6),
      failed: {
        count: 3,
        last: at(7, 2),
        reasons: { wrong_password: 2, account_locked: 1 },
      },
    });
    expect(b.activity.denied).toBe(1);
    expect(b.activity.privilegeChanges).toBe(1);
    expect(b.policyRoles).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          roleId: 'tenant-admin',
          via: 'group tenantry:role:tenant-admin',
          admin: true,
        }),
        expect.objectContaining({
          roleId: 'auditor',
          bindingId: bobBinding.id,
          via: 'user',
          admin: false,
        }),
      ]),
    );
    expect(byId.get(dave.id)!.admin).toBe(false);

    expect(report.unusedPrivileges).toEqual([
      {
        userId: carol.id,
        email: carol.email,
        displayName: HOSTILE_NAME,
        status: 'active',
        adminRoles: ['tenant-admin'],
        lastLoginAt: null,
      },
    ]);

    // Privilege changes, with who did them, in chain order.
    expect(report.privilegeChanges.total).toBe(3);
    expect(report.privilegeChanges.items.map((e) => [e.id, e.actor.id])).toEqual([
      [promotion.id, alice.id],
      [bindingCreated.id, alice.id],
      [keyCreated.id, alice.id],
    ]);
    const promoted = report.privilegeChanges.items[0]!;
    expect(promoted.summary).toBe(`roles of user ${bob.id} set to [tenant-admin]`);
    expect(promoted.changes).toEqual({
      before: { roles: ['member'] },
      after: { roles: ['tenant-admin'] },
    });
    expect(report.privilegeChanges.items[1]!.summary).toBe(`role auditor bound to user ${bob.id}`);
    const [seqRow] = await rows(
      `SELECT seq::int AS seq, encode(hash, 'hex') AS hash FROM audit_events WHERE tenant_id = $1 AND id = $2`,
      [T, promotion.id],
    );
    expect([promoted.seq, promoted.hash]).toEqual([seqRow!.seq, seqRow!.hash]);

    expect(report.unattributedFailedSignIns).toEqual({
      count: 1,
      last: at(4),
      reasons: { unknown_account: 1 },
    });
    expect(report.otherActivity).toEqual([
      expect.objectContaining({
        principal: { type: 'api_key', id: apiKeyId, name: 'CI key' },
        actions: 2,
      }),
    ]);
    expect(report.roleBindings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: bobBinding.id, roleId: 'auditor', admin: false }),
        expect.objectContaining({ roleId: 'tenant-admin', admin: true }),
      ]),
    );
  });

  it('records each report in the ledger (audit.report.generated, actor the caller)', async () => {
    const report = await json<AccessReviewReport>(
      call(AuditReportRpc.accessReview, { tenantId: T, from: FROM, to: TO }),
    );
    const [recorded] = await waitFor('the report event', async () => {
      const found = await rows(
        `SELECT action, category, actor_type, actor_id, data FROM audit_events WHERE tenant_id = $1 AND id = $2`,
        [T, report.reportId],
      );
      return found.length ? found : undefined;
    });
    expect(recorded).toMatchObject({
      action: 'audit.report.generated',
      category: 'audit',
      actor_type: 'user',
      actor_id: alice.id,
      data: expect.objectContaining({ kind: 'access-review', format: 'json', from: FROM, to: TO }),
    });
  });

  it('subject access: everything about one user in the period, with profile and sessions', async () => {
    const report = await json<SubjectAccessReport>(
      call(AuditReportRpc.subjectAccess, { tenantId: T, userId: bob.id, from: FROM, to: TO }),
    );
    expect(report.profileStatus).toBe('found');
    expect(report.profile).toEqual(bob);
    expect(report.sessions).toEqual([bobSession]);
    expect(report.consents.tracked).toBe(false);
    expect(report.signIns).toMatchObject({ count: 1, failed: { count: 3 } });
    // Actor (failed and good sign-ins, the denial), target (promotion), named (the binding).
    const expected = tenantEvents.filter(
      (e) =>
        e.occurredAt >= FROM &&
        e.occurredAt < TO &&
        (e.actor.id === bob.id || e.target?.id === bob.id || e.id === bindingCreated.id),
    );
    expect(expected).toHaveLength(7);
    expect(report.events.total).toBe(7);
    expect(report.events.truncated).toBeNull();
    expect(new Set(report.events.items.map((e) => e.id))).toEqual(
      new Set(expected.map((e) => e.id)),
    );
    const seqs = report.events.items.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('subject access over the list limit says so and gives the export range', async () => {
    const report = await json<SubjectAccessReport>(
      call(AuditReportRpc.subjectAccess, { tenantId: U, userId: erin.id, from: FROM, to: TO }),
    );
    const seqs = (
      await rows(
        `SELECT seq::int AS seq FROM audit_events WHERE tenant_id = $1 AND actor_id = $2 ORDER BY seq`,
        [U, erin.id],
      )
    ).map((r) => Number(r.seq));
    expect(report.events.total).toBe(ERIN_SIGN_INS);
    expect(report.events.items).toHaveLength(REPORT_LIST_LIMIT);
    expect(report.events.truncated).toMatchObject({
      shown: REPORT_LIST_LIMIT,
      total: ERIN_SIGN_INS,
      exportRange: { fromSeq: seqs[REPORT_LIST_LIMIT], toSeq: seqs.at(-1) },
    });
    expect(report.signIns.count).toBe(ERIN_SIGN_INS);

    // The HTML rendering is bigger: cut further if need be, never silently.
    const page = await html(
      call(AuditReportRpc.subjectAccess, {
        tenantId: U,
        userId: erin.id,
        from: FROM,
        to: TO,
        format: 'html',
      }),
    );
    expect(page).toContain('Not complete:');
    expect(page).toMatch(new RegExp(`\\d+ of ${ERIN_SIGN_INS} events are not listed`));
  });

  it('configuration changes: every change in the period with before/after, who and when', async () => {
    const report = await json<ConfigurationChangesReport>(
      call(AuditReportRpc.configurationChanges, { tenantId: T, from: FROM, to: TO }),
    );
    expect(report.changes.total).toBe(4); // api_key.first_used is no change
    expect(report.changes.items.map((c) => [c.action, c.area, c.actor.id])).toEqual([
      ['role-binding.created', 'Role bindings', alice.id],
      ['api_key.created', 'API keys', alice.id],
      ['sso_connection.updated', 'SSO connections', alice.id],
      ['auth-settings.updated', 'Authentication settings', alice.id],
    ]);
    const [binding, , sso, settings] = report.changes.items;
    expect(binding!.changes).toEqual({ before: null, after: bobBinding });
    expect(sso!.changes).toEqual({ before: { name: 'Okta' }, after: { name: HOSTILE_SSO_NAME } });
    expect(sso!.occurredAt).toBe(ssoChanged.occurredAt);
    expect(settings!.changes).toEqual({ before: null, after: { mfaRequired: true } });
    expect(report.byArea).toEqual([
      { area: 'API keys', count: 1 },
      { area: 'Authentication settings', count: 1 },
      { area: 'Role bindings', count: 1 },
      { area: 'SSO connections', count: 1 },
    ]);
  });

  it('renders a self-contained, escaped HTML document tied to the checkpoint', async () => {
    const page = await html(
      call(AuditReportRpc.accessReview, { tenantId: T, from: FROM, to: TO, format: 'html' }),
    );
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<link|<img|<iframe|\ssrc=|\shref=/i);
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Carol');
    expect(page).toContain('<h2>Unused privileges</h2>');
    expect(page).toContain('<h2>How to verify</h2>');
    const tree =
      /tree size <code>(\d+)<\/code>, root hash <code>([0-9a-f]{64})<\/code>, key <code>([^<]+)<\/code>/.exec(
        page,
      );
    expect(tree).not.toBeNull();
    const stored = await checkpointOf(T, Number(tree![1]));
    expect([tree![2], tree![3]]).toEqual([stored!.root_hash, stored!.key_id]);

    const changes = await html(
      call(AuditReportRpc.configurationChanges, {
        tenantId: T,
        from: FROM,
        to: TO,
        format: 'html',
      }),
    );
    expect(changes).toContain('Okta &lt;b&gt;&quot;prod&quot;&lt;/b&gt;');
    expect(changes).not.toContain(HOSTILE_SSO_NAME);
    expect(changes).not.toMatch(/<script|<b>/i);
  });

  it('names the missing sections when identity or the policy service does not answer', async () => {
    standIns.stopIdentity();
    try {
      const report = await json<AccessReviewReport>(
        call(AuditReportRpc.accessReview, { tenantId: T, from: FROM, to: TO }),
      );
      expect(report.users).toBeNull();
      expect(report.unusedPrivileges).toBeNull();
      expect(report.missingSections).toEqual([
        {
          section: 'Users and their roles; unused privileges',
          source: 'identity',
          reason: expect.stringMatching(
            /SERVICE_UNAVAILABLE: the identity service is not available/,
          ),
        },
      ]);
      // What the ledger knows is still there: activity now under the principals identity did not list.
      expect(report.privilegeChanges.total).toBe(3);
      expect(report.roleBindings).not.toBeNull();
      const others = new Map(report.otherActivity.map((a) => [a.principal.id, a]));
      expect(others.get(alice.id)?.signIns.count).toBe(2);
      expect(others.get(bob.id)?.signIns.failed.count).toBe(3);

      const subject = await json<SubjectAccessReport>(
        call(AuditReportRpc.subjectAccess, { tenantId: T, userId: bob.id, from: FROM, to: TO }),
      );
      expect(subject.profileStatus).toBe('unavailable');
      expect(subject.profile).toBeNull();
      expect(subject.sessions).toBeNull();
      expect(subject.missingSections.map((m) => [m.section, m.source])).toEqual([
        ['Profile', 'identity'],
        ['Sessions', 'identity'],
      ]);
      expect(subject.events.total).toBe(7);

      const page = await html(
        call(AuditReportRpc.accessReview, { tenantId: T, from: FROM, to: TO, format: 'html' }),
      );
      expect(page).toContain('<h2>Missing sections</h2>');
      expect(page).toContain('the identity service is not available');
    } finally {
      standIns.startIdentity();
    }

    standIns.stopPolicy();
    try {
      const report = await json<AccessReviewReport>(
        call(AuditReportRpc.accessReview, { tenantId: T, from: FROM, to: TO }),
      );
      expect(report.roleBindings).toBeNull();
      expect(report.missingSections).toEqual([
        expect.objectContaining({ section: 'Role bindings', source: 'policy' }),
      ]);
      // Without the policy, the identity roles decide who is an admin.
      const users = new Map(report.users!.items.map((u) => [u.id, u]));
      expect(users.get(carol.id)).toMatchObject({ admin: true, policyRoles: null });
      expect(users.get(dave.id)!.admin).toBe(false);
      expect(report.unusedPrivileges!.map((u) => u.userId)).toEqual([carol.id]);
    } finally {
      standIns.startPolicy();
    }
  });

  it('refuses a bad request naming the field', async () => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      [
        AuditReportRpc.subjectAccess.subject,
        { tenantId: T, from: FROM, to: TO },
        'userId',
        /required for the subject-access report/,
      ],
      [
        AuditReportRpc.accessReview.subject,
        { tenantId: T, from: TO, to: FROM },
        'to',
        /must be after from/,
      ],
      [
        AuditReportRpc.accessReview.subject,
        { tenantId: T, from: FROM, to: FROM },
        'to',
        /must be after from/,
      ],
      [
        AuditReportRpc.configurationChanges.subject,
        { tenantId: T, from: at(400), to: at(1) },
        'to',
        /at most 366 days after from/,
      ],
      [
        AuditReportRpc.accessReview.subject,
        { tenantId: T, from: 'yesterday', to: TO },
        'from',
        /ISO 8601/,
      ],
      [
        AuditReportRpc.accessReview.subject,
        { tenantId: T, from: FROM, to: TO, format: 'pdf' },
        'format',
        /json or html/,
      ],
      [
        AuditReportRpc.subjectAccess.subject,
        { tenantId: T, from: FROM, to: TO, userId: 'bob' },
        'userId',
        /must be a UUID/,
      ],
    ];
    for (const [subject, body, field, message] of cases) {
      const reply = await raw(subject, body);
      expect(reply).toMatchObject({ ok: false, error: { code: ErrorCode.ValidationFailed } });
      const errors = (reply.error as { errors: { field: string; message: string }[] }).errors;
      expect(errors).toEqual([{ field, message: expect.stringMatching(message) }]);
    }
    // A period of exactly 366 days is fine.
    const longest = await raw(AuditReportRpc.configurationChanges.subject, {
      tenantId: T,
      from: new Date(NOW - 367 * DAY).toISOString(),
      to: new Date(NOW - DAY).toISOString(),
    });
    expect(longest).toMatchObject({ ok: true, data: { format: 'json' } });
  });
});
