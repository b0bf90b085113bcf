/**
 * Reading the audit ledger through the gateway, against the running platform: a tenant's
 * events published straight to JetStream and chained by the audit service, searched, then
 * exported as NDJSON (verified offline with `verifyExport`) and as CSV; the search and the
 * exports are themselves in the tenant's audit log; an export cut short by the audit
 * service going away ends in an error line. Then the export of a large chain (1,000,000
 * events with AUDIT_EXPORT_MILLION=1, else AUDIT_EXPORT_E2E_EVENTS or 50,000), streamed to
 * a file while the gateway's and the audit service's memory (VmRSS) is sampled.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { verifyExport, type AuditKey } from '@tenantry/audit-ledger';
import { Namespace } from '@tenantry/contracts';
import type { NatsService } from '@tenantry/messaging';
import { connectTestNats, createActiveTenant, Platform, waitFor } from '@tenantry/testing';
import { decodeJwt } from 'jose';
import pg from 'pg';

interface Reply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

const OPERATOR = 'operator@audit-export.test';
const MILLION = process.env.AUDIT_EXPORT_MILLION === '1';
const LARGE_COUNT = Number(process.env.AUDIT_EXPORT_E2E_EVENTS ?? (MILLION ? 1_000_000 : 50_000));
/**
 * The bound on each process's RSS growth while exporting the large chain. V8 lets the heap
 * of a process that allocates fast grow to a plateau before collecting (about +100 to
 * +180 MB for the gateway here, the same for 200,000 and 1,000,000 entries, and the same
 * again for repeated exports): generous, but constant.
 */
const RSS_GROWTH_LIMIT = 256 * 1024 * 1024;
/** How much higher the RSS may go in the second half of the export than in the first. */
const FLAT_LIMIT = 48 * 1024 * 1024;
const encoder = new TextEncoder();

/** A process's resident set size (VmRSS), in bytes. */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** What sampling a process's RSS found. */
interface RssStats {
  /** Before the first byte. */
  baseline: number;
  peak: number;
  /** The peaks of the first and of the second half of the samples (time order). */
  firstHalfPeak: number;
  secondHalfPeak: number;
  last: number;
  samples: number;
}

/** Samples the RSS of some processes every `intervalMs` until stopped. */
function sampleRss(pids: Record<string, number>, intervalMs = 100) {
  const series: Record<string, number[]> = {};
  let stopped = false;
  const loop = (async () => {
    do {
      for (const [name, pid] of Object.entries(pids)) (series[name] ??= []).push(await rssOf(pid));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    } while (!stopped);
  })();
  return {
    async stop(): Promise<Record<string, RssStats>> {
      stopped = true;
      await loop;
      return Object.fromEntries(
        Object.entries(series).map(([name, values]) => {
          const half = Math.ceil(values.length / 2);
          return [
            name,
            {
              baseline: values[0]!,
              peak: Math.max(...values),
              firstHalfPeak: Math.max(...values.slice(0, half)),
              secondHalfPeak: Math.max(...values.slice(half)),
              last: values[values.length - 1]!,
              samples: values.length,
            },
          ];
        }),
      );
    },
  };
}

describe('audit export through the gateway: search, NDJSON and CSV, audited, verified offline', () => {
  const password = randomBytes(18).toString('base64url');
  let platform: Platform;
  let gw: string;
  let nats: NatsService;
  let namespace: Namespace;
  let db: pg.Client;
  let operator: string;
  let operatorId: string;
  let tenantId: string;
  let scratch: string;

  async function call(method: string, path: string, body?: unknown): Promise<Reply> {
    const response = await fetch(`${gw}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${operator}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    const json = /json/.test(response.headers.get('content-type') ?? '');
    return {
      status: response.status,
      headers: response.headers,
      body: json && text ? JSON.parse(text) : text,
    };
  }

  async function login(): Promise<void> {
    const response = await fetch(`${gw}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: OPERATOR, password }),
    });
    expect(response.status).toBe(200);
    operator = ((await response.json()) as { accessToken: string }).accessToken;
    operatorId = decodeJwt(operator).sub!;
  }

  /** An active tenant (its audit chain begun by provisioning); export is a feature of the larger plans. */
  async function createTenant(slug: string): Promise<string> {
    const tenant = await createActiveTenant(gw, operator, {
      name: `Tenant ${slug}`,
      slug,
      plan: 'enterprise',
    });
    return tenant.id;
  }

  /** The seq of the tenant's newest entry (0: none), read as the superuser. */
  async function headOf(tenant: string): Promise<number> {
    const { rows } = await db.query('SELECT seq FROM audit_heads WHERE tenant_id = $1', [tenant]);
    return rows.length ? Number(rows[0].seq) : 0;
  }

  /**
   * Publishes `count` small events for the tenant straight to JetStream, as a customer's
   * backend would (`audit.<tenantId>.<category>`, Nats-Msg-Id = id), `inFlight` at a time.
   */
  async function publish(
    tenant: string,
    count: number,
    make: (i: number) => Record<string, unknown> = () => ({}),
    inFlight = 1_000,
  ): Promise<void> {
    const subject = namespace.subject(`audit.${tenant}.e2e-export`);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const id = randomUUID();
        const event = {
          schemaVersion: 1,
          id,
          tenantId: tenant,
          occurredAt: new Date().toISOString(),
          category: 'e2e-export',
          action: 'record.written',
          outcome: 'success',
          actor: { type: 'service', id: 'e2e' },
          data: { i },
          ...make(i),
        };
        await nats.js.publish(subject, encoder.encode(JSON.stringify(event)), { msgID: id });
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  }

  /** Waits until the tenant's chain holds `seq` entries, logging progress. */
  async function waitForHead(tenant: string, seq: number, timeoutMs: number): Promise<void> {
    let lastLog = Date.now();
    await waitFor(
      `the chain of tenant ${tenant} to reach seq ${seq}`,
      async () => {
        const head = await headOf(tenant);
        if (Date.now() - lastLog > 15_000) {
          console.log(`audit-export e2e: chain at ${head} of ${seq}`);
          lastLog = Date.now();
        }
        return head >= seq;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** The public checkpoint keys, as the gateway serves them to anyone (GET /v1/audit/keys). */
  async function publishedKeys(): Promise<AuditKey[]> {
    const response = await fetch(`${gw}/v1/audit/keys`);
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: AuditKey[] };
    expect(keys.length).toBeGreaterThan(0);
    return keys.map(({ keyId, publicKey, notBefore, notAfter }) => ({
      keyId,
      publicKey,
      notBefore,
      notAfter,
    }));
  }

  beforeAll(async () => {
    platform = await Platform.create({
      env: { TENANTRY_ADMIN_EMAIL: OPERATOR, TENANTRY_ADMIN_PASSWORD: password },
    });
    await platform.start();
    gw = platform.gatewayUrl;
    namespace = new Namespace(platform.namespace);
    nats = await connectTestNats(platform.infra.natsUrl, namespace);
    const url = new URL(platform.infra.bootstrapUrl);
    url.pathname = `/${namespace.database('audit')}`;
    db = new pg.Client({ connectionString: url.toString() }); // superuser: past row-level security
    await db.connect();
    scratch = await mkdtemp(join(tmpdir(), 'audit-export-e2e-'));
    await login();
    tenantId = await createTenant('ledger-reader');
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await nats?.drain();
    await platform?.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('searches, exports NDJSON that verifies offline and CSV, and audits each read', async () => {
    const before = await headOf(tenantId);
    // A few hostile cells among them: a formula, a comma and quotes.
    await publish(tenantId, 20_000, (i) =>
      i % 5_000 === 0 ? { target: { type: 'cell', id: `=HYPERLINK("x",${i})` } } : {},
    );
    await waitForHead(tenantId, before + 20_000, 180_000);

    // Search: the newest first, with their place in the chain.
    const base = `/v1/tenants/${tenantId}/audit-events`;
    const search = await call('GET', `${base}?category=e2e-export&action=record.&limit=3`);
    expect(search.status).toBe(200);
    expect(search.body.items).toHaveLength(3);
    expect(search.body.nextCursor).toEqual(expect.any(String));
    for (const item of search.body.items) {
      expect(item).toMatchObject({ category: 'e2e-export', tenantId, severity: 'info' });
      expect(item.seq).toBeGreaterThan(before);
      expect(item.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const bad = await call('GET', `${base}?severity=loud&from=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'from',
      'severity',
    ]);

    // NDJSON, streamed to a file, then verified offline.
    const file = join(scratch, 'export.ndjson');
    const response = await fetch(`${gw}${base}/export`, {
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="audit-${tenantId}.ndjson"`,
    );
    await pipeline(
      Readable.fromWeb(response.body as unknown as WebReadableStream),
      createWriteStream(file),
    );
    const lines = () => createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    const trustedKeys = await publishedKeys();
    const verified = await verifyExport(lines(), { trustedKeys });
    expect(verified).toMatchObject({ ok: true, tenantId, fromSeq: 1 });
    if (!verified.ok) throw new Error('unreachable');
    expect(verified.toSeq).toBeGreaterThanOrEqual(before + 20_000);
    expect(verified.entries).toBe(verified.toSeq);
    expect(verified.keySource).toBe('trusted');

    // One changed byte in the file is named by the verifier.
    const text = await readFile(file, 'utf8');
    const changed = text.replace('\\"i\\":19999}', '\\"i\\":19998}');
    expect(changed).not.toBe(text);
    const failure = await verifyExport(changed.split('\n'));
    expect(failure).toMatchObject({ ok: false, kind: 'altered' });

    // CSV: a header row and a row per entry, consecutive seqs, formulas defused, no proof lines.
    const csv = await call('GET', `${base}/export?format=csv&fromSeq=${before + 1}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = (csv.body as string).split('\r\n');
    expect(rows.pop()).toBe('');
    expect(rows[0]).toMatch(
      /^seq,id,tenantId,schemaVersion,occurredAt,recordedAt,category,action,/,
    );
    const seqs = rows.slice(1).map((row) => Number(row.slice(0, row.indexOf(','))));
    expect(seqs[0]).toBe(before + 1);
    expect(seqs).toEqual(seqs.map((_, i) => before + 1 + i));
    expect(seqs.length).toBeGreaterThanOrEqual(20_000);
    expect(csv.body).toContain(`"'=HYPERLINK(""x"",0)"`);
    expect(csv.body).not.toContain('"type":"checkpoint"');

    // Refused before the first byte: a problem document naming the field.
    const past = await call('GET', `${base}/export?toSeq=999999999`);
    expect(past.status).toBe(400);
    expect(past.body.errors).toEqual([{ field: 'toSeq', message: expect.any(String) }]);
    const format = await call('GET', `${base}/export?format=xml`);
    expect(format.status).toBe(400);
    expect(format.body.errors).toEqual([{ field: 'format', message: 'must be ndjson or csv' }]);

    // Every one of those reads is in the tenant's own chain, with the operator as actor.
    const reads = await waitFor(
      'the audit.read and audit.exported events',
      async () => {
        const by = `category=audit&actorId=${operatorId}&limit=500`;
        const exported = (await call('GET', `${base}?${by}&action=audit.exported`)).body.items;
        const searched = (await call('GET', `${base}?${by}&action=audit.read`)).body.items.filter(
          (e: { data: { filters?: { category?: string } } }) =>
            e.data.filters?.category === 'e2e-export',
        );
        return exported.length >= 2 && searched.length >= 1 && { exported, searched };
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(reads.exported).toHaveLength(2);
    expect(reads.exported.map((e: { data: { format: string } }) => e.data.format).sort()).toEqual([
      'csv',
      'ndjson',
    ]);
    for (const event of [...reads.exported, ...reads.searched])
      expect(event).toMatchObject({
        tenantId,
        category: 'audit',
        actor: { type: 'operator', id: operatorId, ip: expect.any(String) },
      });
    expect(reads.searched[0].data).toMatchObject({
      filters: { category: 'e2e-export', action: 'record.' },
      limit: 3,
      returned: 3,
    });
  }, 300_000);

  it('ends an export cut short after its first byte with an error line, and aborts it', async () => {
    const response = await fetch(`${gw}/v1/tenants/${tenantId}/audit-events/export`, {
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });
    const audit = platform.service('audit');
    await audit.kill();
    let aborted = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      aborted = true;
    }
    audit.start();
    await audit.waitReady();
    expect(aborted).toBe(true);
    const lines = text.split('\n').filter(Boolean);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'header', tenantId });
    const last = JSON.parse(lines[lines.length - 1]!);
    // No responder (SERVICE_UNAVAILABLE), or a page asked just before the kill (TIMEOUT).
    expect(['SERVICE_UNAVAILABLE', 'TIMEOUT']).toContain(last.code);
    expect(last).toMatchObject({
      type: 'error',
      message: expect.stringMatching(/audit/),
      requestId: response.headers.get('x-request-id'),
    });
    expect(lines.some((line) => line.includes('"type":"checkpoint"'))).toBe(false);
  }, 120_000);

  it(
    `exports ${LARGE_COUNT.toLocaleString('en')} events in bounded memory, and the file verifies offline`,
    async () => {
      const tenant = await createTenant('large-ledger');
      const before = await headOf(tenant);
      let started = Date.now();
      await publish(tenant, LARGE_COUNT, () => ({}), 2_000);
      const publishMs = Date.now() - started;
      started = Date.now();
      await waitForHead(tenant, before + LARGE_COUNT, 60 * 60_000);
      const chainMs = Date.now() - started;

      await login(); // a fresh access token: the publishing may have outlived the first
      const pids = {
        gateway: platform.service('gateway').pid!,
        audit: platform.service('audit').pid!,
      };
      const file = join(scratch, 'large.ndjson');
      const sampler = sampleRss(pids);
      started = Date.now();
      const response = await fetch(`${gw}/v1/tenants/${tenant}/audit-events/export`, {
        headers: { authorization: `Bearer ${operator}` },
      });
      expect(response.status).toBe(200);
      await pipeline(
        Readable.fromWeb(response.body as unknown as WebReadableStream),
        createWriteStream(file),
      );
      const exportMs = Date.now() - started;
      const memory = await sampler.stop();
      const size = (await stat(file)).size;

      started = Date.now();
      const trustedKeys = await publishedKeys();
      const verified = await verifyExport(
        createInterface({ input: createReadStream(file), crlfDelay: Infinity }),
        { trustedKeys },
      );
      const verifyMs = Date.now() - started;

      console.log(
        [
          `audit export e2e: ${LARGE_COUNT.toLocaleString('en')} events`,
          `publish ${(publishMs / 1000).toFixed(1)} s, chained ${(chainMs / 1000).toFixed(1)} s after`,
          `export ${(exportMs / 1000).toFixed(1)} s, ${mb(size)}, verify ${(verifyMs / 1000).toFixed(1)} s`,
          ...Object.entries(memory).map(
            ([name, m]) =>
              `${name} RSS: ${mb(m.baseline)} before, peak ${mb(m.peak)} (+${mb(m.peak - m.baseline)}); ` +
              `peak ${mb(m.firstHalfPeak)} in the first half, ${mb(m.secondHalfPeak)} in the second; ` +
              `${mb(m.last)} at the end, ${m.samples} samples`,
          ),
        ].join('\n'),
      );
      expect(verified).toMatchObject({
        ok: true,
        tenantId: tenant,
        fromSeq: 1,
        keySource: 'trusted',
      });
      if (!verified.ok) throw new Error('unreachable');
      expect(verified.entries).toBeGreaterThanOrEqual(before + LARGE_COUNT);
      for (const [name, m] of Object.entries(memory)) {
        expect(m.samples).toBeGreaterThan(10);
        // Bounded: the whole chain costs a constant over what the process used before…
        expect({
          name,
          growth: mb(m.peak - m.baseline),
          bounded: m.peak - m.baseline < RSS_GROWTH_LIMIT,
        }).toEqual({
          name,
          growth: expect.any(String),
          bounded: true,
        });
        // …reached early and then flat: the second half of the rows costs nothing more
        // (for an export long enough for the heap to settle).
        const later = m.secondHalfPeak - m.firstHalfPeak;
        if (LARGE_COUNT >= 200_000)
          expect({ name, later: mb(later), flat: later < FLAT_LIMIT }).toEqual({
            name,
            later: expect.any(String),
            flat: true,
          });
      }
    },
    90 * 60_000,
  );
});
