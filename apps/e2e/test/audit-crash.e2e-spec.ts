import { randomUUID } from 'node:crypto';
import { Namespace, type AuditEvent } from '@tenantry/contracts';
import { EventPublisher, type NatsService } from '@tenantry/messaging';
import { connectTestNats, Platform, waitFor } from '@tenantry/testing';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';

const TOTAL = 1_000;

describe('audit service SIGKILLed while 1,000 audit events are being published', () => {
  let platform: Platform;
  let nats: NatsService;
  let db: pg.Client;

  beforeAll(async () => {
    platform = await Platform.create({ services: ['audit'] });
    await platform.start();
    const namespace = new Namespace(platform.namespace);
    nats = await connectTestNats(platform.infra.natsUrl, namespace);
    const url = new URL(platform.infra.bootstrapUrl);
    url.pathname = `/${namespace.database('audit')}`;
    db = new pg.Client({ connectionString: url.toString() }); // superuser: counts across tenants
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await nats?.drain();
    await platform?.destroy();
  });

  const count = async () =>
    Number((await db.query('SELECT count(*) AS n FROM audit_events')).rows[0].n);

  it('stores exactly 1,000 rows after a restart: none lost, none doubled', async () => {
    const publisher = new EventPublisher(nats);
    const tenants = Array.from({ length: 10 }, () => randomUUID());
    const events: AuditEvent[] = Array.from({ length: TOTAL }, (_, i) => ({
      schemaVersion: 1,
      id: uuidv7(),
      tenantId: tenants[i % tenants.length]!,
      occurredAt: new Date().toISOString(),
      category: 'crash-test',
      action: 'record.written',
      outcome: 'success',
      actor: { type: 'service', id: 'e2e' },
      data: { i },
    }));

    // Publish in paced chunks so the kill lands mid-stream; a publisher whose ack is lost may retry: same id, no double.
    let published = 0;
    const publishing = (async () => {
      for (let i = 0; i < TOTAL; i += 25) {
        await Promise.all(events.slice(i, i + 25).map((e) => publisher.publishAudit(e)));
        published = Math.min(i + 25, TOTAL);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();

    const audit = platform.service('audit');
    await waitFor('the first rows to commit', async () => (await count()) >= 100, {
      timeoutMs: 30_000,
      intervalMs: 10,
    });
    await audit.kill();
    const rowsAtKill = await count();
    const publishedAtKill = published;
    await publishing;
    // Retried publishes of the first 200 events (same ids): JetStream de-duplicates them.
    await Promise.all(events.slice(0, 200).map((e) => publisher.publishAudit(e)));

    expect(publishedAtKill).toBeLessThan(TOTAL);
    expect(rowsAtKill).toBeLessThan(TOTAL);

    audit.start();
    await audit.waitReady();
    await waitFor(`${TOTAL} rows`, async () => (await count()) >= TOTAL, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    // Give any redelivery time to (wrongly) double a row before asserting.
    await new Promise((r) => setTimeout(r, 2_000));
    const { rows } = await db.query(
      'SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM audit_events',
    );
    expect(rows[0]).toEqual({ n: TOTAL, ids: TOTAL });
    const stored = await db.query<{ id: string }>('SELECT id FROM audit_events');
    expect(new Set(stored.rows.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)));
  });
});
