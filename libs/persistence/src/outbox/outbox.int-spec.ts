import { randomBytes, randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { Namespace, type AuditEvent } from '@tenantry/contracts';
import { StreamManager, type NatsService } from '@tenantry/messaging';
import {
  connectTestNats,
  scratchDatabase,
  startNatsServer,
  waitFor,
  type ServerProcess,
} from '@tenantry/testing';
import { DataSource } from 'typeorm';
import { bootstrapDatabase } from '../bootstrap-database.js';
import { runMigrations } from '../migrations.js';
import { addToOutbox, createOutboxTable, outboxAudit } from './outbox.js';
import { OutboxRelay } from './outbox-relay.js';

const scratch = scratchDatabase('outbox');
const db = scratch.options;

class CreateOutbox1700000000000 {
  name = 'CreateOutbox1700000000000';
  up = createOutboxTable;
  async down() {}
}

function auditEvent(tenantId: string, n: number): AuditEvent {
  return {
    schemaVersion: 1,
    id: randomUUID(),
    tenantId,
    occurredAt: new Date().toISOString(),
    category: 'outbox-test',
    action: 'thing.done',
    outcome: 'success',
    actor: { type: 'system', id: 'test' },
    data: { n },
  };
}

/** The outbox against real PostgreSQL and a private nats-server that the test stops and starts. */
describe('transactional outbox', () => {
  let natsServer: ServerProcess;
  let nats: NatsService;
  let dataSource: DataSource;
  let relay: OutboxRelay;
  const namespace = new Namespace(`o${randomBytes(4).toString('hex')}`);

  const streamCount = async () =>
    (await nats.jsm.streams.info(namespace.stream('AUDIT'))).state.messages;
  const outboxCount = async () =>
    Number((await dataSource.query(`SELECT count(*) AS n FROM outbox`))[0].n);

  beforeAll(async () => {
    natsServer = await startNatsServer();
    nats = await connectTestNats(natsServer.url, namespace);
    await new StreamManager(nats).ensure(['AUDIT']);
    await bootstrapDatabase(db);
    await runMigrations(db, [CreateOutbox1700000000000]);
    dataSource = await new DataSource({
      type: 'postgres',
      host: db.host,
      port: db.port,
      database: db.database,
      username: db.appUser,
      installExtensions: false,
    }).initialize();
    relay = new OutboxRelay(dataSource, nats, { pollMs: 100 });
    relay.start();
  });

  afterAll(async () => {
    await relay?.stop();
    await dataSource?.destroy();
    await nats?.drain().catch(() => undefined);
    await natsServer?.stop();
    await scratch.drop();
  });

  it('publishes only what committed: a rolled-back transaction sends nothing', async () => {
    const tenantId = randomUUID();
    await dataSource
      .transaction(async (m) => {
        await addToOutbox(m, [outboxAudit(auditEvent(tenantId, 1))]);
        throw new Error('business rule failed');
      })
      .catch(() => undefined);
    await dataSource.transaction((m) =>
      addToOutbox(m, [outboxAudit(auditEvent(tenantId, 2)), outboxAudit(auditEvent(tenantId, 3))]),
    );
    relay.kick();
    await waitFor(
      '2 published',
      async () => (await streamCount()) === 2 && (await outboxCount()) === 0,
    );
    const last = await nats.jsm.streams.getMessage(namespace.stream('AUDIT'), {
      last_by_subj: namespace.subject(`audit.${tenantId}.outbox-test`),
    });
    expect(last!.json<AuditEvent>().data).toEqual({ n: 3 });
    expect(last!.header.get('Nats-Msg-Id')).toBe(last!.json<AuditEvent>().id);
  });

  it('keeps rows while NATS is down and publishes them when it is back, none lost', async () => {
    const before = await streamCount();
    await natsServer.kill();
    const tenantId = randomUUID();
    for (let i = 0; i < 20; i++) {
      await dataSource.transaction((m) => addToOutbox(m, [outboxAudit(auditEvent(tenantId, i))]));
    }
    relay.kick();
    await new Promise((r) => setTimeout(r, 500));
    expect(await outboxCount()).toBe(20);
    await natsServer.restart();
    await waitFor(
      '20 more published',
      async () => (await outboxCount()) === 0 && (await streamCount()) === before + 20,
      { timeoutMs: 30_000 },
    );
  });

  it('under load, publishes the rows of many transactions in a few batches, not one each', async () => {
    const before = await streamCount();
    const flush = jest.spyOn(relay, 'flushOnce');
    try {
      const tenantId = randomUUID();
      await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          await dataSource.transaction((m) =>
            addToOutbox(m, [outboxAudit(auditEvent(tenantId, i))]),
          );
          relay.kick();
        }),
      );
      await waitFor(
        '60 more published',
        async () => (await outboxCount()) === 0 && (await streamCount()) === before + 60,
      );
      const batches = await Promise.all(flush.mock.results.map((r) => r.value as Promise<number>));
      // Generous (kicks closer together than minIntervalMs share a flush): not one each.
      expect(batches.filter((n) => n > 0).length).toBeLessThan(20);
    } finally {
      flush.mockRestore();
    }
  });

  it('rows of deferrable kicks wait for deferMs and go in one flush; a plain kick takes them at once', async () => {
    // A relay of its own, that does not poll: only kicks publish.
    await relay.stop();
    relay = new OutboxRelay(dataSource, nats, { pollMs: 600_000, deferMs: 2_000 });
    relay.start();
    await waitFor('the first flush done', async () => (await outboxCount()) === 0);
    const flush = jest.spyOn(relay, 'flushOnce');
    const publishedBatches = async () =>
      (await Promise.all(flush.mock.results.map((r) => r.value as Promise<number>))).filter(
        (n) => n > 0,
      );
    try {
      const tenantId = randomUUID();
      const before = await streamCount();
      const write = async (n: number, deferrable: boolean) => {
        await dataSource.transaction((m) => addToOutbox(m, [outboxAudit(auditEvent(tenantId, n))]));
        relay.kick({ deferrable });
      };
      for (let i = 0; i < 5; i++) await write(i, true);
      await new Promise((r) => setTimeout(r, 200));
      expect(await outboxCount()).toBe(5); // waiting for the deferral (2 s)
      await waitFor('5 published', async () => (await streamCount()) === before + 5);
      expect(await publishedBatches()).toEqual([5]);

      for (let i = 5; i < 8; i++) await write(i, true);
      await write(8, false);
      await waitFor('4 more published', async () => (await streamCount()) === before + 9);
      expect(await outboxCount()).toBe(0);
      // the plain kick's flush took the deferred rows with it, and the deferral was dropped
      expect(await publishedBatches()).toEqual([5, 4]);
    } finally {
      flush.mockRestore();
    }
  });

  it('a republish of the same rows (crash between ack and delete) is de-duplicated by message id', async () => {
    const event = outboxAudit(auditEvent(randomUUID(), 99));
    const before = await streamCount();
    await dataSource.transaction((m) => addToOutbox(m, [event, event]));
    relay.kick();
    await waitFor('outbox drained', async () => (await outboxCount()) === 0);
    expect(await streamCount()).toBe(before + 1);
  });
});
