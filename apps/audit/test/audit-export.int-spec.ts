import { randomUUID } from 'node:crypto';
import {
  checkpointLine,
  entryLine,
  headerLine,
  inclusionLine,
  verifyExport,
  type LedgerEntry,
} from '@tenantry/audit-ledger';
import {
  AuditEventRpc,
  ErrorCode,
  type AuditEvent,
  type AuditExportRange,
} from '@tenantry/contracts';
import { waitFor } from '@tenantry/testing';
import { AuditHarness } from './audit-search.harness.js';

const SMALL = 2_500;
const LARGE = 120;

function event(tenantId: string, i: number, data?: Record<string, unknown>): AuditEvent {
  return {
    schemaVersion: 1,
    id: randomUUID(),
    tenantId,
    occurredAt: new Date(Date.UTC(2025, 2, 1, 10, 0, 0, i)).toISOString(),
    category: 'exports',
    action: 'thing.happened',
    outcome: 'success',
    actor: { type: 'user', id: `u-${i % 7}` },
    target: { type: 'thing', id: `t-${i}` },
    data: data ?? { i },
  };
}

describe('audit export pages and proof (the audit service on real PostgreSQL and NATS)', () => {
  let h: AuditHarness;
  const tenant = randomUUID();
  const other = randomUUID();
  let head: number;
  let maxPayload: number;

  /**
   * The whole export as the gateway makes it: header, every page in seq order (checked to
   * continue where the last stopped and to fit a NATS message), checkpoint and inclusion.
   */
  async function exportLines(
    range: AuditExportRange,
    limit = 2_000,
  ): Promise<{ lines: string[]; pageSizes: number[] }> {
    const lines = [headerLine(range)];
    const pageSizes: number[] = [];
    let after = range.fromSeq - 1;
    while (after < range.toSeq) {
      const page = await h.call(AuditEventRpc.exportPage, {
        tenantId: range.tenantId,
        afterSeq: after,
        toSeq: range.toSeq,
        limit,
      });
      expect(Buffer.byteLength(JSON.stringify({ ok: true, data: page }))).toBeLessThan(maxPayload);
      expect(page.entries.length).toBeGreaterThan(0);
      expect(page.entries.length).toBeLessThanOrEqual(limit);
      expect(page.entries.map((e) => e.seq)).toEqual(page.entries.map((_, i) => after + 1 + i));
      pageSizes.push(page.entries.length);
      lines.push(...page.entries.map((e) => entryLine(e as LedgerEntry)));
      after = page.entries[page.entries.length - 1]!.seq;
    }
    const proof = await h.call(AuditEventRpc.exportProof, {
      tenantId: range.tenantId,
      toSeq: range.toSeq,
    });
    lines.push(
      checkpointLine(proof.checkpoint, proof.signature, proof.keys),
      inclusionLine(proof.inclusion.seq, proof.inclusion.treeSize, proof.inclusion.proof),
    );
    return { lines, pageSizes };
  }

  beforeAll(async () => {
    // No sealing round during the test: the export's proof must seal the chain itself.
    h = await AuditHarness.start({ AUDIT_CHECKPOINT_SECONDS: '3600' });
    maxPayload = h.nats.nc.info!.max_payload;
    // Large entries (about 16 KiB of data, all quotes: twice that once escaped in a page)
    // in the middle, so that pages are cut by size, not only by count.
    const events = Array.from({ length: SMALL + LARGE }, (_, i) =>
      i >= 1_000 && i < 1_000 + LARGE
        ? event(tenant, i, { blob: '"'.repeat(8_000) })
        : event(tenant, i),
    );
    await h.publish([...events, ...Array.from({ length: 30 }, (_, i) => event(other, i))]);
    await h.waitStored(tenant, events.length);
    await h.waitStored(other, 30);
    head = events.length;
  }, 180_000);

  afterAll(async () => {
    await h?.close();
  });

  it('exports the whole chain in pages that fit a NATS message, and the export verifies', async () => {
    const reader = { ip: '198.51.100.4', userAgent: 'export-spec' };
    const actorId = randomUUID();
    const range = await h.call(
      AuditEventRpc.exportBegin,
      { tenantId: tenant, format: 'ndjson', reader },
      `user:${actorId}`,
    );
    expect(range).toMatchObject({ tenantId: tenant, fromSeq: 1, toSeq: head });
    const { lines, pageSizes } = await exportLines(range);
    expect(lines).toHaveLength(head + 3);
    // Cut by size: a page of large entries holds far fewer than a page of small ones.
    expect(Math.max(...pageSizes)).toBeLessThanOrEqual(2_000);
    expect(Math.max(...pageSizes)).toBeGreaterThan(500);
    expect(Math.min(...pageSizes.slice(0, -1))).toBeLessThan(100);
    const result = await verifyExport(lines);
    expect(result).toMatchObject({ ok: true, tenantId: tenant, entries: head, fromSeq: 1 });

    // The export was recorded in the tenant's chain, after the range it exported, once.
    const exported = await waitFor(
      'the audit.exported event',
      async () => {
        const page = await h.call(AuditEventRpc.list, {
          tenantId: tenant,
          category: 'audit',
          action: 'audit.exported',
          actorId,
        });
        return page.items.length > 0 && page.items;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(exported).toHaveLength(1);
    expect(exported[0]).toMatchObject({
      action: 'audit.exported',
      severity: 'notice',
      actor: { type: 'user', id: actorId, ...reader },
      data: { format: 'ndjson', fromSeq: 1, toSeq: head, entries: head },
    });
    expect(exported[0]!.seq).toBeGreaterThan(head);
  });

  it('exports a range that does not start at 1, and that range verifies (and a changed line does not)', async () => {
    const range = await h.call(AuditEventRpc.exportBegin, {
      tenantId: tenant,
      format: 'ndjson',
      fromSeq: 900,
      toSeq: 1_300,
    });
    expect(range).toMatchObject({ fromSeq: 900, toSeq: 1_300 });
    const { lines } = await exportLines(range, 150);
    expect(await verifyExport(lines)).toMatchObject({ ok: true, entries: 401, fromSeq: 900 });

    const tampered = [...lines];
    tampered[200] = tampered[200]!.replace('thing.happened', 'thing.happened2');
    expect(await verifyExport(tampered)).toMatchObject({ ok: false, line: 201, kind: 'altered' });
    const dropped = lines.filter((_, i) => i !== 50);
    expect(await verifyExport(dropped)).toMatchObject({ ok: false, kind: 'gap' });
  });

  it("pages only the tenant's own entries", async () => {
    const page = await h.call(AuditEventRpc.exportPage, {
      tenantId: other,
      afterSeq: 0,
      toSeq: 1_000,
      limit: 1_000,
    });
    expect(page.entries).toHaveLength(30);
    expect(page.entries.every((e) => e.tenantId === other)).toBe(true);
    const range = await h.call(AuditEventRpc.exportBegin, { tenantId: other, format: 'csv' });
    expect(await verifyExport((await exportLines(range)).lines)).toMatchObject({
      ok: true,
      tenantId: other,
      entries: 30,
    });
  });

  it('refuses a range outside the chain, naming the field, and a tenant without entries', async () => {
    const past = await h.failure(AuditEventRpc.exportBegin, {
      tenantId: tenant,
      format: 'ndjson',
      toSeq: 10_000_000,
    });
    expect(past.code).toBe(ErrorCode.ValidationFailed);
    expect(past.errors).toEqual([{ field: 'toSeq', message: expect.stringMatching(/newest/) }]);

    const from = await h.failure(AuditEventRpc.exportBegin, {
      tenantId: tenant,
      format: 'ndjson',
      fromSeq: 10_000_000,
    });
    expect(from.errors).toEqual([{ field: 'fromSeq', message: expect.stringMatching(/newest/) }]);

    const order = await h.failure(AuditEventRpc.exportBegin, {
      tenantId: tenant,
      format: 'ndjson',
      fromSeq: 10,
      toSeq: 5,
    });
    expect(order.errors).toEqual([
      { field: 'toSeq', message: expect.stringMatching(/not be below fromSeq/) },
    ]);

    const format = await h.failure(AuditEventRpc.exportBegin, {
      tenantId: tenant,
      format: 'xml' as 'csv',
    });
    expect(format.errors).toEqual([{ field: 'format', message: 'must be ndjson or csv' }]);

    const empty = await h.failure(AuditEventRpc.exportBegin, {
      tenantId: randomUUID(),
      format: 'ndjson',
    });
    expect(empty.code).toBe(ErrorCode.NotFound);
    expect(empty.reason).toBe('AUDIT_EXPORT_EMPTY');

    const limit = await h.raw(AuditEventRpc.exportPage.subject, {
      tenantId: tenant,
      afterSeq: 0,
      toSeq: 10,
      limit: 0,
    });
    expect(limit.error?.errors).toEqual([
      { field: 'limit', message: 'must be an integer from 1 to 5000' },
    ]);
  });
});
