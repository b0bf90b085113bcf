import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { bootstrapDatabase, runMigrations, TenantTransactions } from '@tenantry/persistence';
import { scratchDatabase } from '@tenantry/testing';
import { DataSource } from 'typeorm';
import { migrations } from '../src/database/migrations/index.js';
import { AuditEventEntity } from '../src/audit-events/audit-event.entity.js';
import {
  AuditEventRepository,
  type NewAuditEvent,
} from '../src/audit-events/audit-event.repository.js';

const scratch = scratchDatabase('auditrepo');
const { options } = scratch;

function event(tenantId: string, overrides: Partial<NewAuditEvent> = {}): NewAuditEvent {
  return {
    tenantId,
    id: randomUUID(),
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    category: 'test',
    action: 'thing.done',
    outcome: 'success',
    actorType: 'user',
    actorId: 'u1',
    actorName: null,
    targetType: null,
    targetId: null,
    requestId: null,
    data: null,
    streamSequence: 1,
    ...overrides,
  };
}

describe('AuditEventRepository (real PostgreSQL, app role under RLS)', () => {
  let dataSource: DataSource;
  let repository: AuditEventRepository;

  beforeAll(async () => {
    await bootstrapDatabase(options);
    await runMigrations(options, migrations);
    dataSource = await new DataSource({
      type: 'postgres',
      host: options.host,
      port: options.port,
      database: options.database,
      username: options.appUser,
      entities: [AuditEventEntity],
      installExtensions: false,
    }).initialize();
    repository = new AuditEventRepository(new TenantTransactions(dataSource));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await scratch.drop();
  });

  it('stores a batch spanning tenants, each row under its own tenant, and lists each tenant apart', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await repository.insertBatch([event(a), event(b), event(a), event(b), event(a)]);
    expect(await repository.list(a, 10)).toHaveLength(3);
    expect(await repository.list(b, 10)).toHaveLength(2);
  });

  it('stores hostile text and JSON verbatim (every value is escaped)', async () => {
    const tenant = randomUUID();
    const nasty = `'); DROP TABLE audit_events; -- \\ \\' $$ $tag$ "quoted" ünïcödé 🚀`;
    const data = { note: nasty, nested: { list: [1, 'two', null], backslash: '\\n' } };
    await repository.insertBatch([
      event(tenant, { actorName: nasty, targetType: 'doc', targetId: nasty, data }),
    ]);
    const [row] = await repository.list(tenant, 1);
    expect(row!.actorName).toBe(nasty);
    expect(row!.targetId).toBe(nasty);
    expect(row!.data).toEqual(data);
    expect(
      await dataSource.query(`SELECT to_regclass('audit_events') IS NOT NULL AS present`),
    ).toEqual([{ present: true }]);
  });

  it('skips a row it already has (redelivery), without failing the batch', async () => {
    const tenant = randomUUID();
    const first = event(tenant);
    await repository.insertBatch([first]);
    await repository.insertBatch([first, event(tenant)]);
    expect(await repository.list(tenant, 10)).toHaveLength(2);
  });
});
