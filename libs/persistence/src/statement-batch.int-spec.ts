import { randomUUID } from 'node:crypto';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { scratchDatabase } from '@tenantry/testing';
import { bootstrapDatabase } from './bootstrap-database.js';
import { enableTenantRls, runMigrations } from './migrations.js';
import { TenantTransactions } from './persistence.module.js';
import {
  CURRENT_TENANT,
  query,
  setTenantStatement,
  statement,
  tenantFrom,
  type Row,
} from './statements.js';

const scratch = scratchDatabase('batch');
const { options } = scratch;

/** `notes` is tenant data (row-level security); `directory` is platform level and names tenants. */
class CreateNotesAndDirectory1700000000000 implements MigrationInterface {
  name = 'CreateNotesAndDirectory1700000000000';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE notes (id serial PRIMARY KEY, tenant_id uuid NOT NULL, body text NOT NULL)`,
    );
    await enableTenantRls(runner, 'notes');
    await runner.query(`CREATE TABLE directory (name text PRIMARY KEY, tenant_id uuid NOT NULL)`);
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE notes; DROP TABLE directory`);
  }
}

const bodies = (rows: Row[]) => rows.map((row) => row.body as string);
/** Every note the transaction can see: no tenant filter of its own, so only RLS decides. */
const allNotes = () =>
  query({ name: 'test.all-notes', text: `SELECT body FROM notes ORDER BY body` }, [], bodies);
const addNote = (tenantId: string, body: string) =>
  statement(
    { name: 'test.add-note', text: `INSERT INTO notes (tenant_id, body) VALUES ($1, $2)` },
    [tenantId, body],
  );
const addToDirectory = (name: string, tenantId: string) =>
  statement(
    {
      name: 'test.add-to-directory',
      text: `INSERT INTO directory (name, tenant_id) VALUES ($1, $2)`,
    },
    [name, tenantId],
  );
const currentTenant = () =>
  query(
    { name: 'test.current-tenant', text: `SELECT ${CURRENT_TENANT} AS tenant_id` },
    [],
    ([row]) => (row!.tenant_id as string | null) ?? null,
  );
const transactionId = () =>
  query({ name: 'test.xid', text: `SELECT txid_current()::text AS xid` }, [], ([row]) => row!.xid);
const tenantNamed = (name: string) =>
  tenantFrom(
    { name: 'test.tenant-named', text: `SELECT tenant_id FROM directory WHERE name = $1` },
    [name],
  );

describe('one-round-trip batches under row-level security (TenantTransactions.batch, real PostgreSQL)', () => {
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  let app: DataSource;
  let tx: TenantTransactions;

  beforeAll(async () => {
    await bootstrapDatabase(options);
    await runMigrations(options, [CreateNotesAndDirectory1700000000000]);
    app = await new DataSource({
      type: 'postgres',
      host: options.host,
      port: options.port,
      database: options.database,
      username: options.appUser,
      installExtensions: false,
      extra: { max: 2 },
    }).initialize();
    tx = new TenantTransactions(app);
    await tx.batch(tenantA, [addNote(tenantA, 'a1'), addNote(tenantA, 'a2')]);
    await tx.batch(tenantB, [addNote(tenantB, 'b1')]);
    await tx.batchGlobal([addToDirectory('acme', tenantA), addToDirectory('bravo', tenantB)]);
  });

  afterAll(async () => {
    await app?.destroy();
    await scratch.drop();
  });

  it('runs every statement as the tenant, in one transaction, and gives each result in order', async () => {
    const [tenant, notes, xid1, xid2] = await tx.batch(tenantA, [
      currentTenant(),
      allNotes(),
      transactionId(),
      transactionId(),
    ]);
    expect(tenant).toBe(tenantA);
    expect(notes).toEqual(['a1', 'a2']);
    expect(xid1).toBe(xid2);
    expect(await tx.batch(tenantB, [allNotes()])).toEqual([['b1']]);
  });

  it('runs as the tenant a platform-level query names, and as no tenant when it names none', async () => {
    expect(await tx.batch(tenantNamed('bravo'), [currentTenant(), allNotes()])).toEqual([
      tenantB,
      ['b1'],
    ]);
    expect(await tx.batch(tenantNamed('acme'), [allNotes()])).toEqual([['a1', 'a2']]);
    expect(await tx.batch(tenantNamed('nobody'), [currentTenant(), allNotes()])).toEqual([
      null,
      [],
    ]);
    await expect(tx.batch(tenantNamed('nobody'), [addNote(tenantA, 'sneaky')])).rejects.toThrow(
      /row-level security/,
    );
  });

  it('refuses a row of another tenant, and keeps nothing of the batch (platform tables included)', async () => {
    await expect(
      tx.batch(tenantA, [
        addNote(tenantA, 'a3'),
        addToDirectory('charlie', tenantA),
        addNote(tenantB, 'sneaky'),
      ]),
    ).rejects.toThrow(/row-level security/);
    expect(await tx.batch(tenantA, [allNotes()])).toEqual([['a1', 'a2']]);
    expect(await tx.batch(tenantNamed('charlie'), [currentTenant()])).toEqual([null]);
  });

  it('passes values as bind parameters, read back as they were sent', async () => {
    const at = new Date(Date.UTC(2026, 10, 30, 7, 0, 0, 123));
    const tricky = [
      `it's`,
      'a "quote"',
      'back\\slash',
      'com,ma {brace}',
      `'; DROP TABLE notes; --`,
    ];
    const echo = query(
      {
        name: 'test.echo',
        text: `SELECT $1::text[] AS list, $2::timestamptz AS at, $3::jsonb AS json, $4::text AS text, $5::text AS nothing`,
      },
      [tricky, at, JSON.stringify({ tricky }), tricky[4], null],
      ([row]) => row,
    );
    expect(await tx.batchGlobal([echo])).toEqual([
      { list: tricky, at, json: { tricky }, text: tricky[4], nothing: null },
    ]);
    expect(await tx.batch(tenantA, [allNotes()])).toEqual([['a1', 'a2']]);
  });

  it('leaves no tenant behind on its pooled connections', async () => {
    for (let i = 0; i < 4; i++) {
      await tx.batch(i % 2 ? tenantA : tenantB, [allNotes()]);
      expect(await tx.batchGlobal([currentTenant(), allNotes()])).toEqual([null, []]);
    }
  });

  it('works alongside concurrent batches of other tenants', async () => {
    const seen = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const tenant = i % 2 ? tenantA : tenantB;
        return tx.batch(tenant, [currentTenant(), allNotes()]).then(([t, notes]) => ({ t, notes }));
      }),
    );
    seen.forEach(({ t, notes }, i) => {
      expect(t).toBe(i % 2 ? tenantA : tenantB);
      expect(notes).toEqual(i % 2 ? ['a1', 'a2'] : ['b1']);
    });
  });

  describe('a transaction in batches (TenantTransactions.inBatches)', () => {
    const lockKey = 424242;
    const lock = query(
      { name: 'test.lock', text: `SELECT pg_advisory_xact_lock($1::bigint)::text AS locked` },
      [lockKey],
      () => undefined,
    );
    /** Whether another connection can take the lock now (it is released at once if so). */
    const lockFree = async () => {
      const [{ free }] = (await app.query(
        `SELECT pg_try_advisory_lock($1::bigint) AS free, pg_advisory_unlock($1::bigint)`,
        [lockKey],
      )) as { free: boolean }[];
      return free;
    };

    it('keeps one transaction across its batches: the first reads and locks, the last writes and commits', async () => {
      const [tenantRead, lockHeldBetween] = await tx.inBatches(async (batched) => {
        // the rows as PostgreSQL returned them, one list per statement
        const [, , notes, [first]] = await batched.run([
          setTenantStatement(tenantA),
          lock,
          allNotes(),
          transactionId(),
        ]);
        const before = bodies(notes!);
        const held = !(await lockFree());
        const [, , [second]] = await batched.run(
          [
            setTenantStatement(tenantA),
            addNote(tenantA, `after ${before.length}`),
            transactionId(),
          ],
          { commit: true },
        );
        expect(second!.xid).toBe(first!.xid);
        return [before, held];
      });
      expect(tenantRead).toEqual(['a1', 'a2']);
      expect(lockHeldBetween).toBe(true);
      expect(await lockFree()).toBe(true);
      expect(await tx.batch(tenantA, [allNotes()])).toEqual([['a1', 'a2', 'after 2']]);
    });

    it('commits after the work when no batch asked to, and switches tenants inside it', async () => {
      await tx.inBatches(async (batched) => {
        await batched.run([setTenantStatement(tenantB), addNote(tenantB, 'b2')]);
        await batched.run([setTenantStatement(tenantA), addNote(tenantA, 'a-late')]);
      });
      expect(await tx.batch(tenantB, [allNotes()])).toEqual([['b1', 'b2']]);
      expect(await tx.batch(tenantA, [allNotes()])).toEqual([['a-late', 'a1', 'a2', 'after 2']]);
    });

    it('rolls back everything when a later batch fails, or the work throws between batches', async () => {
      await expect(
        tx.inBatches(async (batched) => {
          await batched.run([setTenantStatement(tenantB), addNote(tenantB, 'lost-1')]);
          await batched.run([addNote(tenantA, 'refused by RLS')], { commit: true });
        }),
      ).rejects.toThrow(/row-level security/);
      await expect(
        tx.inBatches(async (batched) => {
          await batched.run([setTenantStatement(tenantB), lock, addNote(tenantB, 'lost-2')]);
          throw new Error('the work changed its mind');
        }),
      ).rejects.toThrow(/changed its mind/);
      expect(await lockFree()).toBe(true);
      expect(await tx.batch(tenantB, [allNotes()])).toEqual([['b1', 'b2']]);
      // the pool still works (both connections), and carries no tenant or transaction over
      for (let i = 0; i < 3; i++)
        expect(await tx.batchGlobal([currentTenant(), allNotes()])).toEqual([null, []]);
    });

    it('refuses a batch after the commit', async () => {
      await expect(
        tx.inBatches(async (batched) => {
          await batched.run([allNotes()], { commit: true });
          await batched.run([allNotes()]);
        }),
      ).rejects.toThrow(/already committed/);
    });
  });
});
