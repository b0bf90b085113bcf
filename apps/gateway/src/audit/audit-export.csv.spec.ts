import type { LedgerEntryMessage } from '@tenantry/contracts';
import { CSV_COLUMNS, csvCell, csvHeader, csvRow } from './audit-export.csv.js';

const entry: LedgerEntryMessage = {
  tenantId: '01a22add-94c3-7000-8000-000000000002',
  seq: 7,
  id: '01a22add-94c3-7000-8000-000000000001',
  schemaVersion: 1,
  occurredAt: '2026-11-30T05:00:00Z',
  recordedAt: '2026-11-30T05:00:00.123Z',
  category: 'users',
  action: 'user.updated',
  outcome: 'success',
  severity: 'info',
  actor: { type: 'user', id: 'u-1', name: 'Ada, "the first"', ip: null },
  target: { type: 'user', id: '=HYPERLINK("http://evil")' },
  reason: 'line one\nline two',
  dataText: '{"note":"-2+3"}',
  changesText: null,
  prevHash: '0'.repeat(64),
  hash: 'a'.repeat(64),
};

describe('CSV export', () => {
  it('quotes as RFC 4180 says: commas, quotes (doubled) and line breaks', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('one\r\ntwo')).toBe('"one\r\ntwo"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(42)).toBe('42');
  });

  it('defuses a cell a spreadsheet would run as a formula', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r'])
      expect(csvCell(`${start}1+1`).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('=SUM(A1:A9)')).toBe("'=SUM(A1:A9)");
    expect(csvCell('=A1,B1')).toBe(`"'=A1,B1"`);
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('writes a header row and one row per entry, in the same columns, each ending in CRLF', () => {
    expect(csvHeader()).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
    const row = csvRow(entry);
    expect(row.endsWith('\r\n')).toBe(true);
    expect(row).toBe(
      [
        '7',
        entry.id,
        entry.tenantId,
        '1',
        entry.occurredAt,
        entry.recordedAt,
        'users',
        'user.updated',
        'success',
        'info',
        'user',
        'u-1',
        '"Ada, ""the first"""',
        '',
        '',
        '',
        '',
        '',
        'user',
        `"'=HYPERLINK(""http://evil"")"`,
        '',
        '',
        '"line one\nline two"',
        '"{""note"":""-2+3""}"',
        '',
        '0'.repeat(64),
        'a'.repeat(64),
      ].join(',') + '\r\n',
    );
  });
});
