import { randomBytes, randomUUID } from 'node:crypto';
import {
  Headers,
  Namespace,
  ProblemSchema,
  SERVICES,
  TenantAcceptedSchema,
} from '@tenantry/contracts';
import { connectTestNats, Platform, waitFor, waitForActiveTenant } from '@tenantry/testing';
import { decodeJwt } from 'jose';

/** The bootstrap operator's access token, sent with every call below unless `anonymous`. */
let operatorToken = '';

async function call(url: string, init: RequestInit & { json?: unknown; anonymous?: boolean } = {}) {
  const response = await fetch(url, {
    ...init,
    headers: {
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.anonymous ? {} : { authorization: `Bearer ${operatorToken}` }),
      ...init.headers,
    },
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

describe('walking skeleton: gateway → NATS → service → JetStream → audit (six processes)', () => {
  let platform: Platform;
  let gw: string;
  const logLines: { service: string; line: string }[] = [];

  const adminPassword = randomBytes(18).toString('base64url');

  beforeAll(async () => {
    // The gateway logs every request at info: its JSON lines are checked below.
    platform = await Platform.create({
      onLine: (service, line) => logLines.push({ service, line }),
      env: {
        LOG_LEVEL: 'info',
        TENANTRY_ADMIN_EMAIL: 'admin@walking-skeleton.test',
        TENANTRY_ADMIN_PASSWORD: adminPassword,
      },
    });
    await platform.start();
    gw = platform.gatewayUrl;
    // Every call below is the bootstrap operator's, signed in as a client would.
    const login = await call(`${gw}/v1/auth/login`, {
      method: 'POST',
      anonymous: true,
      json: { email: 'admin@walking-skeleton.test', password: adminPassword },
    });
    expect(login.status).toBe(200);
    operatorToken = login.body.accessToken;
  });

  afterAll(async () => {
    await platform?.destroy();
  });

  it('GET /v1/health lists all six services as up, each with its own dependencies checked', async () => {
    const { status, body } = await call(`${gw}/v1/health`);
    expect(status).toBe(200);
    expect(body.status).toBe('up');
    expect(Object.keys(body.services).sort()).toEqual([...SERVICES].sort());
    for (const service of SERVICES) {
      expect(body.services[service].status).toBe('up');
      expect(body.services[service].checks.nats).toEqual({ status: 'up' });
      const own = service === 'gateway' ? 'redis' : 'database';
      expect(body.services[service].checks[own]).toEqual({ status: 'up' });
    }
    // The gateway checks tokens against identity's keys and follows its revocations.
    expect(body.services.gateway.checks.jwks).toEqual({ status: 'up' });
    expect(body.services.gateway.checks.revocations).toEqual({ status: 'up' });
  });

  it('refuses everything but the public routes without credentials', async () => {
    for (const [method, path] of [
      ['POST', '/v1/tenants'],
      ['GET', '/v1/tenants'],
      ['GET', `/v1/tenants/${randomUUID()}`],
      ['GET', `/v1/tenants/${randomUUID()}/audit-events`],
    ] as const) {
      const refused = await call(`${gw}${path}`, { method, anonymous: true });
      expect({ method, path, status: refused.status }).toEqual({ method, path, status: 401 });
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(refused.body.code).toBe('UNAUTHENTICATED');
    }
    expect((await call(`${gw}/v1/health`, { anonymous: true })).status).toBe(200);
  });

  it('creates a tenant through the gateway, and its activation reaches its audit log with the same request id', async () => {
    const created = await call(`${gw}/v1/tenants`, {
      method: 'POST',
      json: { name: 'Acme Corp', slug: 'acme' },
    });
    // Accepted: stored as `provisioning`, brought up across the services by its run.
    expect(created.status).toBe(202);
    const { tenant, runId } = TenantAcceptedSchema.parse(created.body);
    expect(tenant).toMatchObject({ name: 'Acme Corp', slug: 'acme', status: 'provisioning' });
    expect(tenant.runId).toBe(runId);
    const requestId = created.headers.get('x-request-id');
    expect(requestId).toBeTruthy();

    const active = await waitForActiveTenant(gw, operatorToken, tenant.id);
    expect(active).toMatchObject({ id: tenant.id, slug: 'acme', plan: 'free', runId });
    const fetched = await call(`${gw}/v1/tenants/${tenant.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(active);

    // tenant.created is in the platform's log (a tenant has none until provisioning opens it);
    // the tenant's own log opens with its genesis, its first policy, and its activation.
    const audit = await waitFor('the tenant.activated audit event', async () => {
      const page = await call(`${gw}/v1/tenants/${tenant.id}/audit-events`);
      const items = page.body.items.filter(
        (e: { action: string }) => e.action === 'tenant.activated',
      );
      return items.length ? { items } : undefined;
    });
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]).toMatchObject({
      tenantId: tenant.id,
      action: 'tenant.activated',
      category: 'tenants',
      outcome: 'success',
      // The real principal, carried from the gateway over NATS and through the provisioning
      // run: not `system`.
      actor: { type: 'operator', id: decodeJwt(operatorToken).sub },
      target: { type: 'tenant', id: tenant.id },
      requestId,
      data: { slug: 'acme', from: 'provisioning', to: 'active', runId },
    });
    // Its creation, in the platform's audit log: the same actor and request id.
    const createdFact = await waitFor('tenant.created in the platform audit log', async () => {
      const page = await call(`${gw}/v1/platform/audit-events?action=tenant.created&limit=100`);
      return page.body.items?.find((e: { target?: { id: string } }) => e.target?.id === tenant.id);
    });
    expect(createdFact).toMatchObject({
      action: 'tenant.created',
      category: 'tenants',
      actor: { type: 'operator', id: decodeJwt(operatorToken).sub },
      requestId,
      data: { name: 'Acme Corp', slug: 'acme', plan: 'free', runId },
    });
  });

  it('answers bad input with RFC 9457 problem details naming each field', async () => {
    const bad = await call(`${gw}/v1/tenants`, {
      method: 'POST',
      json: { name: '', slug: 'Not A Slug', color: 'red' },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const problem = ProblemSchema.parse(bad.body);
    expect(problem).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      instance: '/v1/tenants',
    });
    expect(problem.errors!.map((e) => e.field).sort()).toEqual(['(root)', 'name', 'slug']);
    expect(problem.errors!.find((e) => e.field === 'slug')!.message).toContain(
      'lowercase letters, digits or hyphens',
    );

    const malformed = await call(`${gw}/v1/tenants`, {
      method: 'POST',
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('VALIDATION_FAILED');
  });

  it('maps service error codes to HTTP: 409 for a taken slug, 404 for a missing tenant', async () => {
    const first = await call(`${gw}/v1/tenants`, {
      method: 'POST',
      json: { name: 'First', slug: 'taken' },
    });
    expect(first.status).toBe(202);
    // Taken from the moment it is accepted, while it is still being provisioned.
    const conflict = await call(`${gw}/v1/tenants`, {
      method: 'POST',
      json: { name: 'Second', slug: 'taken' },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      code: 'CONFLICT',
      reason: 'TENANT_SLUG_TAKEN',
      errors: [{ field: 'slug' }],
    });

    const missing = await call(`${gw}/v1/tenants/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'NOT_FOUND', reason: 'TENANT_NOT_FOUND' });

    const noRoute = await call(`${gw}/v1/nothing-here`);
    expect(noRoute.status).toBe(404);
    expect(noRoute.body.type).toMatch(/not-found$/);
  });

  it('replays a retried create with the same Idempotency-Key instead of creating twice', async () => {
    const headers = { 'idempotency-key': `create-${randomUUID()}` };
    const body = { name: 'Retry Inc', slug: 'retry-inc' };
    const first = await call(`${gw}/v1/tenants`, { method: 'POST', json: body, headers });
    const retry = await call(`${gw}/v1/tenants`, { method: 'POST', json: body, headers });
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(retry.headers.get('idempotent-replayed')).toBe('true');

    const misuse = await call(`${gw}/v1/tenants`, {
      method: 'POST',
      json: { ...body, name: 'Other' },
      headers,
    });
    expect(misuse.status).toBe(409);
    expect(misuse.body.reason).toBe('IDEMPOTENCY_KEY_REUSED');

    const bad = await call(`${gw}/v1/tenants`, {
      method: 'POST',
      json: body,
      headers: { 'idempotency-key': 'x'.repeat(300) },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toBe('IDEMPOTENCY_KEY_INVALID');

    // A failed request releases its key: the same key may be used again once the cause is fixed.
    const failKey = { 'idempotency-key': `fail-${randomUUID()}` };
    expect(
      (await call(`${gw}/v1/tenants`, { method: 'POST', json: body, headers: failKey })).status,
    ).toBe(409);
    const fixed = await call(`${gw}/v1/tenants`, {
      method: 'POST',
      json: { ...body, slug: 'retry-inc-2' },
      headers: failKey,
    });
    expect(fixed.status).toBe(202);
  });

  it('pages through tenants with a cursor', async () => {
    for (const slug of ['page-a', 'page-b', 'page-c']) {
      expect(
        (await call(`${gw}/v1/tenants`, { method: 'POST', json: { name: slug, slug } })).status,
      ).toBe(202);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { slug: string }[]; nextCursor: string | null } } = await call(
        `${gw}/v1/tenants?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.items.map((t) => t.slug));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(['acme', 'taken', 'page-a', 'page-b', 'page-c']));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('puts a request id on every response and keeps a sane one the client sent', async () => {
    const mine = await call(`${gw}/v1/health`, { headers: { 'x-request-id': 'client-req-42' } });
    expect(mine.headers.get('x-request-id')).toBe('client-req-42');
    const notFound = await call(`${gw}/nowhere`);
    expect(notFound.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(notFound.body.requestId).toBe(notFound.headers.get('x-request-id'));
    const hostile = await call(`${gw}/v1/health`, {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(hostile.headers.get('x-request-id')).not.toBe('bad id with spaces');
  });

  it('logs JSON lines that carry the service and the request id', async () => {
    const requestId = `log-check-${randomUUID()}`;
    await call(`${gw}/v1/tenants?limit=1`, { headers: { 'x-request-id': requestId } });
    const line = await waitFor('the request log line', async () =>
      logLines.find((l) => l.service === 'gateway' && l.line.includes(requestId)),
    );
    const entry = JSON.parse(line.line);
    expect(entry).toMatchObject({
      service: 'gateway',
      level: 30,
      msg: 'request completed',
      method: 'GET',
      url: '/v1/tenants?limit=1',
      status: 200,
    });
    expect(entry.requestId).toBe(requestId);
    expect(typeof entry.time).toBe('number');
    for (const { line: raw } of logLines.filter((l) => l.line.startsWith('{')).slice(0, 50)) {
      expect(() => JSON.parse(raw)).not.toThrow();
    }
  });

  it('serves OpenAPI 3.1 generated from the contract schemas, and Swagger UI', async () => {
    const doc = await call(`${gw}/openapi.json`);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const create = doc.body.paths['/v1/tenants'].post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.properties.slug.pattern).toBeDefined();
    expect(schema.required).toEqual(['name', 'slug']);
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['202', '400', '409']));
    const list = doc.body.paths['/v1/tenants'].get;
    expect(list.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'limit',
          in: 'query',
          required: false,
          schema: expect.objectContaining({ maximum: 500, default: 50 }),
        }),
        expect.objectContaining({ name: 'cursor', in: 'query', required: false }),
      ]),
    );
    const get = doc.body.paths['/v1/tenants/{id}'].get;
    expect(get.parameters).toEqual([
      expect.objectContaining({
        name: 'id',
        in: 'path',
        required: true,
        schema: expect.objectContaining({ format: 'uuid' }),
      }),
    ]);
    const docs = await fetch(`${gw}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('every service serves /health/live, /health/ready and Prometheus /metrics', async () => {
    for (const service of platform.processes.values()) {
      expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
      const ready = await fetch(`${service.url}/health/ready`);
      expect(ready.status).toBe(200);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain('tenantry_process_cpu_seconds_total');
    }
    const tenantsMetrics = await (await fetch(`${platform.service('tenants').url}/metrics`)).text();
    expect(tenantsMetrics).toMatch(
      /tenantry_rpc_server_duration_seconds_count\{subject="tenants.tenants.create",outcome="ok"\} [1-9]/,
    );
  });

  it('parks an invalid audit event where an operator can see it, with its reason, and counts it', async () => {
    const namespace = new Namespace(platform.namespace);
    const nats = await connectTestNats(platform.infra.natsUrl, namespace);
    try {
      const tenantId = randomUUID();
      const eventId = randomUUID();
      await nats.js.publish(
        namespace.subject(`audit.${tenantId}.billing`),
        JSON.stringify({ schemaVersion: 2, id: eventId, tenantId }),
        { msgID: eventId },
      );
      const parked = await waitFor('the parked message', async () => {
        const info = await nats.jsm.streams.info(namespace.stream('PARKED'));
        if (info.state.messages === 0) return undefined;
        return nats.jsm.streams.getMessage(namespace.stream('PARKED'), {
          last_by_subj: namespace.subject('parked.audit.audit-ledger'),
        });
      });
      expect(parked!.header.get(Headers.parkedReason)).toContain('schemaVersion must be 1');
      expect(parked!.header.get(Headers.parkedSubject)).toBe(
        namespace.subject(`audit.${tenantId}.billing`),
      );
      const metrics = await (await fetch(`${platform.service('audit').url}/metrics`)).text();
      expect(metrics).toMatch(
        /tenantry_consumer_parked_total\{stream="AUDIT",consumer="audit-ledger",reason="invalid"\} 1/,
      );
    } finally {
      await nats.drain();
    }
  });

  it('answers 503 while a service is down, and works again once it is back', async () => {
    const tenants = platform.service('tenants');
    await tenants.kill();
    // nats-server drops the dead connection's subscriptions once it has read its end, which on
    // a loaded machine can come after the process is gone (a request meanwhile waits for its
    // timeout: 504). Until then the service is not known to be down; the health check says
    // when it is (no responders).
    await waitFor('NATS to know the tenants service is gone', async () => {
      const health = await call(`${gw}/v1/health`);
      return /not available/.test(health.body.services?.tenants?.error ?? '');
    });
    const refused = await call(`${gw}/v1/tenants`, {
      method: 'POST',
      json: { name: 'Down', slug: 'while-down' },
    });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      detail: 'the tenants service is not available',
    });
    const health = await call(`${gw}/v1/health`);
    expect(health.status).toBe(503);
    expect(health.body.services.tenants.status).toBe('down');

    tenants.start();
    await tenants.waitReady();
    const created = await call(`${gw}/v1/tenants`, {
      method: 'POST',
      json: { name: 'Back', slug: 'while-down' },
    });
    expect(created.status).toBe(202);
    await waitForActiveTenant(gw, operatorToken, created.body.tenant.id);
    expect((await call(`${gw}/v1/health`)).status).toBe(200);
  });

  it('stops every service cleanly on SIGTERM (exit code 0)', async () => {
    const codes = await Promise.all([...platform.processes.values()].map((p) => p.stop()));
    expect(codes).toEqual(codes.map(() => 0));
  });
});
