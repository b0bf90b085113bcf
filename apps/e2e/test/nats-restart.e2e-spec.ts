import { randomBytes } from 'node:crypto';
import {
  cleanupNamespace,
  createActiveTenant,
  Platform,
  startNatsServer,
  waitFor,
  type ServerProcess,
} from '@tenantry/testing';

/** Kills and restarts a private nats-server under a running platform; the machine's NATS is never touched. */
describe('NATS killed and restarted under a running platform', () => {
  let nats: ServerProcess;
  let platform: Platform;
  let auth: Record<string, string>;
  const adminPassword = randomBytes(18).toString('base64url');

  beforeAll(async () => {
    nats = await startNatsServer();
    platform = await Platform.create({
      infra: { natsUrl: nats.url },
      env: {
        TENANTRY_ADMIN_EMAIL: 'admin@nats-restart.test',
        TENANTRY_ADMIN_PASSWORD: adminPassword,
      },
    });
    await platform.start();
    const login = await fetch(`${platform.gatewayUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@nats-restart.test', password: adminPassword }),
    });
    expect(login.status).toBe(200);
    auth = {
      authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}`,
    };
  });

  afterAll(async () => {
    await platform?.stop();
    await nats?.stop();
    // Databases and Redis keys live on the shared servers; the private NATS store went with its folder.
    await cleanupNamespace(platform.namespace, {
      ...platform.infra,
      natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    });
  });

  const health = async () => {
    const response = await fetch(`${platform.gatewayUrl}/v1/health`, {
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, body: (await response.json()) as { status: string } };
  };

  it('services reconnect by themselves and /v1/health is green again within 10 s', async () => {
    expect((await health()).status).toBe(200);

    await nats.kill();
    const down = await waitFor('health to notice NATS is gone', async () => {
      const h = await health();
      return h.status === 503 ? h : undefined;
    });
    expect(down.body.status).toBe('degraded');

    await nats.restart();
    const restartedAt = Date.now();
    await waitFor('all six services up again', async () => (await health()).status === 200, {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const seconds = (Date.now() - restartedAt) / 1000;
    process.stdout.write(`platform green ${seconds.toFixed(1)} s after NATS restarted\n`);

    // The pipes work again end to end: a tenant provisioned across the services (RPCs to
    // every participant), and its tenant.activated fact through JetStream into the ledger.
    const tenant = await createActiveTenant(
      platform.gatewayUrl,
      null,
      { name: 'After restart', slug: 'after-restart' },
      { headers: auth },
    );
    await waitFor('the audit event after the restart', async () => {
      const page = (await (
        await fetch(`${platform.gatewayUrl}/v1/tenants/${tenant.id}/audit-events`, {
          headers: auth,
        })
      ).json()) as {
        items: { action: string }[];
      };
      return page.items.filter((e) => e.action === 'tenant.activated').length === 1;
    });
  });
});
