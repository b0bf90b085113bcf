import type { SubjectAccessReport } from '@tenantry/contracts';
import { NatsService } from '@tenantry/messaging';
import { double } from '@tenantry/testing';
import { ReportAuditor, type GeneratedReport } from './report.auditor.js';
import { renderReport } from './report.html.js';
import { ReportRepository, type ReportEventRow } from './report.repository.js';
import { REPORT_LIST_LIMIT, ReportService } from './report.service.js';
import { ReportSources } from './report-sources.js';

const TENANT = '01a22add-94c3-7000-8000-00000000000a';
const USER = '01a22add-94c3-7000-8000-0000000000b0';
const HOSTILE = `<i onmouseover="alert('x')">&amp;</i>`;

function row(seq: number, data: Record<string, unknown> | null = null): ReportEventRow {
  return {
    seq,
    hash: seq.toString(16).padStart(64, '0'),
    id: `01a22add-94c3-7000-8000-${seq.toString().padStart(12, '0')}`,
    occurredAt: new Date(Date.UTC(2026, 5, 1, 0, seq)),
    category: 'users',
    action: 'user.updated',
    outcome: 'success',
    severity: 'info',
    actorType: 'user',
    actorId: USER,
    actorName: HOSTILE,
    onBehalfOfType: null,
    onBehalfOfId: null,
    targetType: 'user',
    targetId: USER,
    reason: HOSTILE,
    data,
    changes: { before: { displayName: HOSTILE }, after: { displayName: `${HOSTILE}!` } },
  };
}

/** A service over `events` (all of the user's), replying through NATS of `maxPayload` bytes. */
function setup(events: ReportEventRow[], maxPayload: number) {
  const recorded: GeneratedReport[] = [];
  const ledger = double(ReportRepository, {
    ledgerState: async () => ({
      throughSeq: events.length,
      checkpoint: null,
      prunedThroughSeq: null,
    }),
    listEvents: async (_window, _filter, limit) => events.slice(0, limit),
    countEvents: async () => ({ total: events.length, lastSeq: events.at(-1)?.seq ?? 0 }),
    signInCounts: async () => [],
  });
  const sources = double(ReportSources, {
    user: async () => ({ ok: true, value: null }),
    sessions: async () => ({ ok: false, reason: 'SERVICE_UNAVAILABLE: identity is down' }),
  });
  const auditor = double(ReportAuditor, {
    caller: () => ({ type: 'user', id: USER }),
    record: async (report) => {
      recorded.push(report);
    },
  });
  const nats = double(NatsService, { nc: { info: { max_payload: maxPayload } } as never });
  return { service: new ReportService(ledger, sources, auditor, nats), recorded };
}

const request = {
  tenantId: TENANT,
  userId: USER,
  from: '2026-06-01T00:00:00.000Z',
  to: '2026-07-01T00:00:00.000Z',
};

describe('ReportService', () => {
  it('cuts the lists until the reply fits in one NATS message, saying what to export', async () => {
    const padding = 'x'.repeat(2_000);
    const events = Array.from({ length: 300 }, (_, i) => row(i + 1, { padding }));
    const maxPayload = 256 * 1024;
    const { service, recorded } = setup(events, maxPayload);

    const reply = await service.subjectAccess({ ...request, format: 'json' });
    expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(maxPayload);
    const report = (reply as { report: SubjectAccessReport }).report;
    const shown = report.events.items.length;
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(300);
    expect(report.events.items.map((e) => e.seq)).toEqual(events.slice(0, shown).map((e) => e.seq));
    expect(report.events.truncated).toMatchObject({
      shown,
      total: 300,
      exportRange: { fromSeq: shown + 1, toSeq: 300 },
    });
    expect(recorded).toEqual([
      expect.objectContaining({
        id: report.reportId,
        kind: 'subject-access',
        userId: USER,
        data: expect.objectContaining({ cut: true, missingSections: ['Sessions'] }),
      }),
    ]);

    const html = await service.subjectAccess({ ...request, format: 'html' });
    expect(Buffer.byteLength(JSON.stringify(html))).toBeLessThanOrEqual(maxPayload);
  });

  it('lists everything when it fits, up to the list limit', async () => {
    const events = Array.from({ length: REPORT_LIST_LIMIT + 5 }, (_, i) => row(i + 1));
    const { service } = setup(events, 8 * 1024 * 1024);
    const reply = await service.subjectAccess({ ...request, format: 'json' });
    const report = (reply as { report: SubjectAccessReport }).report;
    expect(report.events.items).toHaveLength(REPORT_LIST_LIMIT);
    expect(report.events.truncated).toMatchObject({
      shown: REPORT_LIST_LIMIT,
      total: REPORT_LIST_LIMIT + 5,
      exportRange: { fromSeq: REPORT_LIST_LIMIT + 1, toSeq: REPORT_LIST_LIMIT + 5 },
    });
    expect(report.profileStatus).toBe('not-found');
  });

  it('escapes every value in the HTML document', async () => {
    const { service } = setup([row(1, { [HOSTILE]: HOSTILE, nested: { deep: HOSTILE } })], 1 << 20);
    const reply = await service.subjectAccess({ ...request, format: 'json' });
    const report = (reply as { report: SubjectAccessReport }).report;
    const html = renderReport({
      ...report,
      notes: [HOSTILE],
      missingSections: [{ section: HOSTILE, source: HOSTILE, reason: HOSTILE }],
      profileStatus: 'found',
      profile: {
        id: USER,
        tenantId: TENANT,
        email: HOSTILE,
        displayName: HOSTILE,
        status: 'active',
        roles: [HOSTILE],
        mfaEnabled: false,
        createdAt: request.from,
        updatedAt: request.from,
        lastLoginAt: null,
      },
    });
    expect(html).not.toContain('<i ');
    expect(html).not.toContain("'x'");
    expect(html).toContain(
      '&lt;i onmouseover=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;amp;&lt;/i&gt;',
    );
  });
});
