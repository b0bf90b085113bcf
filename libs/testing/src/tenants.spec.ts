import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tenant } from '@tenantry/contracts';
import { createActiveTenant, testTenant, waitForActiveTenant } from './tenants.js';

/** A stand-in gateway: answers POST /v1/tenants, GET /v1/tenants/{id} and its provisioning. */
class FakeGateway {
  statuses: Tenant['status'][] = [];
  createStatus = 202;
  requests: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
  readonly tenant = testTenant({ status: 'provisioning', slug: 'acme' });
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => this.answer(request, response));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    this.requests.push({ method: request.method!, url: request.url!, headers: request.headers });
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    request.resume();
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/tenants') {
        if (this.createStatus !== 202)
          return send(this.createStatus, { code: 'CONFLICT', reason: 'TENANT_SLUG_TAKEN' });
        return send(202, { tenant: this.tenant, runId: '0195c7a0-0000-7000-8000-000000000001' });
      }
      if (request.url === `/v1/tenants/${this.tenant.id}`) {
        const status = this.statuses.length > 1 ? this.statuses.shift()! : this.statuses[0]!;
        return send(200, { ...this.tenant, status });
      }
      if (request.url === `/v1/tenants/${this.tenant.id}/provisioning`)
        return send(200, { status: 'failed', failedStep: 'policy-bootstrap', error: 'boom' });
      send(404, { code: 'NOT_FOUND' });
    });
  }
}

describe('createActiveTenant', () => {
  let gateway: FakeGateway;

  beforeEach(async () => {
    gateway = new FakeGateway();
    await gateway.start();
  });
  afterEach(() => gateway.close());

  it('posts, then polls until the tenant is active, and answers the active tenant', async () => {
    gateway.statuses = ['provisioning', 'provisioning', 'active'];
    const tenant = await createActiveTenant(gateway.url, 'tok', { name: 'Acme', slug: 'acme' });
    expect(tenant).toMatchObject({ id: gateway.tenant.id, status: 'active' });
    expect(gateway.requests.map((r) => r.method)).toEqual(['POST', 'GET', 'GET', 'GET']);
    for (const request of gateway.requests)
      expect(request.headers.authorization).toBe('Bearer tok');
  });

  it('sends the given headers instead of a token', async () => {
    gateway.statuses = ['active'];
    await createActiveTenant(
      gateway.url,
      null,
      { slug: 'acme' },
      { headers: { 'x-api-key': 'k' } },
    );
    expect(gateway.requests[0]!.headers).toMatchObject({ 'x-api-key': 'k' });
    expect(gateway.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('throws with the answer when the create is not accepted', async () => {
    gateway.createStatus = 409;
    await expect(createActiveTenant(gateway.url, 'tok', { slug: 'acme' })).rejects.toThrow(
      /answered 409, not 202: .*TENANT_SLUG_TAKEN/,
    );
  });

  it('throws with the provisioning run when the tenant ends failed', async () => {
    gateway.statuses = ['provisioning', 'failed'];
    await expect(createActiveTenant(gateway.url, 'tok', { slug: 'acme' })).rejects.toThrow(
      /did not become active .*status failed[\s\S]*"failedStep": "policy-bootstrap"/,
    );
  });

  it('throws with the provisioning run when the tenant is still provisioning at the timeout', async () => {
    gateway.statuses = ['provisioning'];
    await expect(
      waitForActiveTenant(gateway.url, 'tok', gateway.tenant.id, { timeoutMs: 300 }),
    ).rejects.toThrow(/within 300 ms .*status provisioning[\s\S]*"error": "boom"/);
  });
});

describe('testTenant', () => {
  it('is a valid tenant, active and unlimited, but for what is given', () => {
    const tenant = testTenant({ slug: 'acme', plan: 'free' });
    expect(tenant).toMatchObject({ slug: 'acme', plan: 'free', status: 'active' });
    expect(tenant.limits.users).toBeNull();
    expect(testTenant().id).not.toBe(testTenant().id);
  });
});
