// The one definition of an audit ledger entry's bytes and hash (audit-design.md, README.md).
import { hash } from 'node:crypto';
import { decimal, hashBytes, lengthPrefixed, type CanonicalField } from './encoding.js';

/** The ASCII magic that starts every canonical entry: the encoding's version. */
export const ENTRY_MAGIC = 'tenantry.audit.entry.v1';

/** The prevHash of a tenant's first entry (seq 1): 32 zero bytes, as 64 hex digits. */
export const GENESIS_HASH = '0'.repeat(64);

/** An `{ type, id }` reference (target, on-behalf-of). */
export interface LedgerRef {
  type: string;
  id: string;
}

/**
 * One entry of a tenant's audit ledger, as hashed and exported. Optional fields may be
 * undefined or null: both mean absent (encoded as the length 0xFFFFFFFF), which differs from
 * the empty string (length 0).
 */
export interface LedgerEntry {
  tenantId: string;
  /** 1, 2, 3… per tenant, gap-free. */
  seq: number;
  /** The event's id (idempotency key). */
  id: string;
  schemaVersion: number;
  /** As the publisher sent it (ISO 8601), not re-formatted. */
  occurredAt: string;
  /** `Date#toISOString()` of when the ledger recorded it (milliseconds, `Z`). */
  recordedAt: string;
  category: string;
  action: string;
  outcome: string;
  severity: string;
  actor: {
    type: string;
    id: string;
    name?: string | null;
    ip?: string | null;
    userAgent?: string | null;
    sessionId?: string | null;
  };
  onBehalfOf?: LedgerRef | null;
  target?: LedgerRef | null;
  requestId?: string | null;
  traceId?: string | null;
  reason?: string | null;
  /** The event's `data` as JSON text, exactly as hashed (`JSON.stringify` at append time). */
  dataText: string | null;
  /** The event's `changes` as JSON text, exactly as hashed. */
  changesText: string | null;
  /** The previous entry's hash (64 hex digits); GENESIS_HASH for seq 1. */
  prevHash: string;
  /** entryHash(this, prevHash), 64 hex digits. */
  hash: string;
}

/** The hashed content of an entry: everything but its own hash and its predecessor's. */
export type LedgerEntryContent = Omit<LedgerEntry, 'prevHash' | 'hash'>;

/** The 25 fields of an entry, in their canonical order. */
export function entryFields(e: LedgerEntryContent): CanonicalField[] {
  return [
    e.tenantId,
    decimal(e.seq, 'seq', 1),
    e.id,
    decimal(e.schemaVersion, 'schemaVersion', 0),
    e.occurredAt,
    e.recordedAt,
    e.category,
    e.action,
    e.outcome,
    e.severity,
    e.actor.type,
    e.actor.id,
    e.actor.name,
    e.actor.ip,
    e.actor.userAgent,
    e.actor.sessionId,
    e.onBehalfOf?.type,
    e.onBehalfOf?.id,
    e.target?.type,
    e.target?.id,
    e.requestId,
    e.traceId,
    e.reason,
    e.dataText,
    e.changesText,
  ];
}

/**
 * The canonical bytes of an entry: ASCII `tenantry.audit.entry.v1`, then the 25 fields in
 * order, each a 4-byte big-endian length and its UTF-8 bytes (absent: 0xFFFFFFFF, no bytes).
 */
export function canonicalEntry(e: LedgerEntryContent): Uint8Array {
  return lengthPrefixed(ENTRY_MAGIC, entryFields(e));
}

/** SHA-256(canonicalEntry(e) ‖ prevHash) as 64 lowercase hex digits. */
export function entryHash(e: LedgerEntryContent, prevHashHex: string): string {
  const prev = hashBytes(prevHashHex, 'prevHash');
  return hash('sha256', lengthPrefixed(ENTRY_MAGIC, entryFields(e), prev), 'hex');
}
