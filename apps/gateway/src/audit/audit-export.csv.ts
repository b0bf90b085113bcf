import type { LedgerEntryMessage } from '@tenantry/contracts';

/** The CSV export's columns, in order: the ledger entry's fields, flattened. */
export const CSV_COLUMNS = [
  'seq',
  'id',
  'tenantId',
  'schemaVersion',
  'occurredAt',
  'recordedAt',
  'category',
  'action',
  'outcome',
  'severity',
  'actorType',
  'actorId',
  'actorName',
  'actorIp',
  'actorUserAgent',
  'actorSessionId',
  'onBehalfOfType',
  'onBehalfOfId',
  'targetType',
  'targetId',
  'requestId',
  'traceId',
  'reason',
  'data',
  'changes',
  'prevHash',
  'hash',
] as const;

// What a spreadsheet takes for the start of a formula (OWASP "CSV injection"): =, +, -, @,
// and tab or carriage return, which some programs skip before one.
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell (RFC 4180): null and undefined are empty; a value that a spreadsheet would
 * run as a formula gets a leading `'`; a value with a quote, comma or line break is quoted,
 * its quotes doubled.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The header row, with its CRLF. */
export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/** One entry as a CSV row, with its CRLF. */
export function csvRow(entry: LedgerEntryMessage): string {
  const cells: (string | number | null | undefined)[] = [
    entry.seq,
    entry.id,
    entry.tenantId,
    entry.schemaVersion,
    entry.occurredAt,
    entry.recordedAt,
    entry.category,
    entry.action,
    entry.outcome,
    entry.severity,
    entry.actor.type,
    entry.actor.id,
    entry.actor.name,
    entry.actor.ip,
    entry.actor.userAgent,
    entry.actor.sessionId,
    entry.onBehalfOf?.type,
    entry.onBehalfOf?.id,
    entry.target?.type,
    entry.target?.id,
    entry.requestId,
    entry.traceId,
    entry.reason,
    entry.dataText,
    entry.changesText,
    entry.prevHash,
    entry.hash,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}
