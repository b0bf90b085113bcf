/**
 * The audit ledger issue's "tried as a new user would", against the running platform: a
 * tenant admin does a few things, searches the audit log for them, exports it, verifies the
 * export offline with the `tenantry-audit` command (no service involved), then one row is
 * changed by hand in PostgreSQL and `verify` names the altered entry (and a new export no
 * longer verifies offline, while the one taken before still does).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Namespace } from '@tenantry/contracts';
import {
  createActiveTenant,
  LOCAL_INFRA,
  Platform,
  startSmtpServer,
  tokenInMail,
  waitFor,
  type TestSmtpServer,
} from '@tenantry/testing';
import pg from 'pg';

const run = promisify(execFile);
const VERIFIER = fileURLToPath(
  new URL('../../../libs/audit-ledger/bin/tenantry-audit.mjs', import.meta.url),
);
const OPERATOR = 'operator@audit-journey.test';

interface Reply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

describe('audit journey: act, search, export, verify offline, tamper, verify', () => {
  const operatorPassword = randomBytes(18).toString('base64url');
  let smtp: TestSmtpServer;
  let platform: Platform;
  let gw: string;
  let dir: string;

  async function call(
    method: string,
    route: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<Reply> {
    const response = await fetch(`${gw}${route}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body, text };
  }

  /** The offline verifier, as a user runs it: exit code and what it printed. */
  async function verifyOffline(file: string): Promise<{ code: number; out: string }> {
    try {
      const { stdout } = await run(process.execPath, [VERIFIER, 'verify', file]);
      return { code: 0, out: stdout };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: `${e.stdout}${e.stderr}` };
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'audit-journey-'));
    smtp = await startSmtpServer();
    platform = await Platform.create({
      env: {
        TENANTRY_ADMIN_EMAIL: OPERATOR,
        TENANTRY_ADMIN_PASSWORD: operatorPassword,
        SMTP_URL: smtp.url,
        AUDIT_CHECKPOINT_SECONDS: '1',
      },
    });
    await platform.start();
    gw = platform.gatewayUrl;
  });

  afterAll(async () => {
    await platform?.destroy();
    await smtp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds what an admin did, exports it, verifies it offline, and names a row changed by hand', async () => {
    const login = await call('POST', '/v1/auth/login', {
      body: { email: OPERATOR, password: operatorPassword },
    });
    const operator: string = login.body.accessToken;
    // Export is a feature of the larger plans.
    const tenant = await createActiveTenant(gw, operator, {
      name: 'Umbrella',
      slug: 'umbrella',
      plan: 'enterprise',
    });
    const tenantId = tenant.id;
    const base = `/v1/tenants/${tenantId}`;

    // A tenant admin, invited and signed in.
    await call('POST', `${base}/users`, {
      token: operator,
      body: { email: 'alice@umbrella.test', displayName: 'Alice', roles: ['tenant-admin'] },
    });
    const mail = await waitFor('the invitation', async () =>
      smtp.mails.find((m) => m.to === 'alice@umbrella.test'),
    );
    const accepted = await call('POST', '/v1/auth/invitations/accept', {
      body: {
        token: tokenInMail(mail.text),
        password: `Umbrella-${randomBytes(9).toString('hex')}`,
      },
    });
    const admin: string = accepted.body.accessToken;

    // A few things the admin does.
    const key = await call('POST', `${base}/api-keys`, {
      token: admin,
      body: { name: 'reporting', scopes: ['audit:read'] },
    });
    expect(key.status).toBe(201);
    expect(
      (
        await call('PATCH', `${base}/auth-settings`, {
          token: admin,
          body: { passwordMinLength: 14 },
        })
      ).status,
    ).toBe(200);
    await call('POST', `${base}/users`, {
      token: admin,
      body: { email: 'bob@umbrella.test', displayName: 'Bob' },
    });

    // Search: what the admin did, by actor and by action prefix.
    const me = await call('GET', '/v1/me', { token: admin });
    const byAdmin = await waitFor('the admin’s actions in the audit log', async () => {
      const page = await call('GET', `${base}/audit-events?actorId=${me.body.id}&limit=100`, {
        token: admin,
      });
      const actions: string[] = page.body?.items?.map((e: { action: string }) => e.action) ?? [];
      return actions.includes('api_key.created') && actions.includes('user.invited') && page;
    });
    for (const event of byAdmin.body.items) expect(event.actor.id).toBe(me.body.id);
    const keys = await call('GET', `${base}/audit-events?action=api_key.&limit=100`, {
      token: admin,
    });
    expect(keys.body.items.map((e: { action: string }) => e.action)).toContain('api_key.created');
    expect(keys.body.items[0]).toMatchObject({ seq: expect.any(Number), hash: expect.any(String) });

    // Export, then verify the file offline.
    const exported = await call('GET', `${base}/audit-events/export?format=ndjson`, {
      token: admin,
    });
    expect(exported.status).toBe(200);
    const before = path.join(dir, 'before.ndjson');
    await writeFile(before, exported.text);
    const offline = await verifyOffline(before);
    expect(offline).toMatchObject({ code: 0 });
    expect(offline.out).toMatch(/^OK: \d+ entries/);

    // Change one row by hand in PostgreSQL (as its superuser, past the append-only trigger).
    const target = keys.body.items.find((e: { action: string }) => e.action === 'api_key.created');
    const url = new URL(LOCAL_INFRA.bootstrapUrl);
    url.pathname = `/${new Namespace(platform.namespace).database('audit')}`;
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    try {
      await db.query(`SET session_replication_role = replica`);
      const changed = await db.query(
        `UPDATE audit_events SET action = 'api_key.deleted' WHERE tenant_id = $1 AND seq = $2`,
        [tenantId, target.seq],
      );
      expect(changed.rowCount).toBe(1);
    } finally {
      await db.end();
    }

    // verify names the altered entry.
    const verified = await call('POST', `${base}/audit/verify`, { token: admin, body: {} });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({
      ok: false,
      firstBad: { seq: target.seq, kind: 'altered' },
    });

    // A new export carries the altered row and fails offline, naming it; the old one still verifies.
    const after = path.join(dir, 'after.ndjson');
    await writeFile(
      after,
      (await call('GET', `${base}/audit-events/export?format=ndjson`, { token: admin })).text,
    );
    const tampered = await verifyOffline(after);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toMatch(/^FAILED at line \d+: altered/);
    expect((await verifyOffline(before)).code).toBe(0);
  });
});
