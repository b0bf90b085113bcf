// The NDJSON export (audit-design.md "Export file"): writing its lines, and verifying a file
// line by line in constant memory.
import { GENESIS_HASH, type LedgerEntry, type LedgerRef } from './canonical.js';
import { isRawPublicKey, verifyCheckpoint, type AuditKey, type Checkpoint } from './checkpoint.js';
import { isHash } from './encoding.js';
import { leafHash, verifyInclusion } from './merkle.js';
import { ChainVerifier } from './verify.js';

/** The header's `format`. */
export const EXPORT_FORMAT = 'tenantry.audit.export.v1';

/** The export's first line. */
export interface ExportHeader {
  tenantId: string;
  /** The first entry's seq. */
  fromSeq: number;
  /** The last entry's seq (fromSeq - 1 for an export without entries). */
  toSeq: number;
  /** ISO 8601. */
  exportedAt: string;
}

/** Line 1: `{"type":"header","format":"tenantry.audit.export.v1",tenantId,fromSeq,toSeq,exportedAt}` (no newline). */
export function headerLine(header: ExportHeader): string {
  return JSON.stringify({
    type: 'header',
    format: EXPORT_FORMAT,
    tenantId: header.tenantId,
    fromSeq: header.fromSeq,
    toSeq: header.toSeq,
    exportedAt: header.exportedAt,
  });
}

const ref = (r: LedgerRef | null | undefined): LedgerRef | null =>
  r ? { type: r.type, id: r.id } : null;

/**
 * One `{"type":"entry",…}` line (no newline): exactly the LedgerEntry fields (anything else on
 * the object is left out; the verifier refuses fields the hash does not cover), absent
 * optional fields as null.
 */
export function entryLine(entry: LedgerEntry): string {
  return JSON.stringify({
    type: 'entry',
    tenantId: entry.tenantId,
    seq: entry.seq,
    id: entry.id,
    schemaVersion: entry.schemaVersion,
    occurredAt: entry.occurredAt,
    recordedAt: entry.recordedAt,
    category: entry.category,
    action: entry.action,
    outcome: entry.outcome,
    severity: entry.severity,
    actor: {
      type: entry.actor.type,
      id: entry.actor.id,
      name: entry.actor.name ?? null,
      ip: entry.actor.ip ?? null,
      userAgent: entry.actor.userAgent ?? null,
      sessionId: entry.actor.sessionId ?? null,
    },
    onBehalfOf: ref(entry.onBehalfOf),
    target: ref(entry.target),
    requestId: entry.requestId ?? null,
    traceId: entry.traceId ?? null,
    reason: entry.reason ?? null,
    dataText: entry.dataText ?? null,
    changesText: entry.changesText ?? null,
    prevHash: entry.prevHash,
    hash: entry.hash,
  });
}

/** `{"type":"checkpoint","checkpoint":{…},"signature":…,"keys":[…]}` (no newline). */
export function checkpointLine(
  checkpoint: Checkpoint,
  signature: string,
  keys: readonly AuditKey[],
): string {
  return JSON.stringify({
    type: 'checkpoint',
    checkpoint: {
      tenantId: checkpoint.tenantId,
      treeSize: checkpoint.treeSize,
      rootHash: checkpoint.rootHash,
      issuedAt: checkpoint.issuedAt,
      keyId: checkpoint.keyId,
      kind: checkpoint.kind,
      prunedThroughSeq: checkpoint.prunedThroughSeq ?? null,
    },
    signature,
    keys: keys.map((k) => ({
      keyId: k.keyId,
      publicKey: k.publicKey,
      notBefore: k.notBefore,
      notAfter: k.notAfter ?? null,
    })),
  });
}

/**
 * `{"type":"inclusion","seq":…,"treeSize":…,"proof":[hex…]}` (no newline): the inclusion proof
 * of the entry `seq` (the export's toSeq; leaf index seq - 1) in the checkpoint's tree.
 */
export function inclusionLine(
  seq: number,
  treeSize: number,
  proof: readonly (Uint8Array | string)[],
): string {
  return JSON.stringify({
    type: 'inclusion',
    seq,
    treeSize,
    proof: proof.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('hex'))),
  });
}

/** Why an export does not verify. */
export type ExportFailureKind =
  | 'malformed'
  | 'gap'
  | 'chain_break'
  | 'altered'
  | 'tenant_mismatch'
  | 'inclusion_invalid'
  | 'bad_signature'
  | 'unknown_key'
  | 'missing_checkpoint';

/** A verified export. */
export interface ExportVerified {
  ok: true;
  tenantId: string;
  /** How many entries the file holds. */
  entries: number;
  fromSeq: number;
  toSeq: number;
  checkpoint: Checkpoint;
  /** The key that signed the checkpoint. */
  key: AuditKey;
  /** `trusted`: one of `trustedKeys`; `file`: a key the file itself lists (not independent). */
  keySource: 'trusted' | 'file';
}

/** The first bad line of an export. */
export interface ExportFailure {
  ok: false;
  /** 1-based; for a file that ends too early, the line after its last. */
  line: number;
  kind: ExportFailureKind;
  message: string;
}

/** Options of verifyExport. */
export interface VerifyExportOptions {
  /**
   * Keys trusted independently of the file (e.g. fetched from `GET /v1/audit/keys`). The
   * checkpoint must be signed by one: the one with its keyId, or the one whose publicKey is
   * the key the file lists under its keyId. Without them, the keys the file lists are used.
   */
  trustedKeys?: readonly AuditKey[];
}

type Json = Record<string, unknown>;

class Malformed extends Error {}

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(o: Json, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(o))
    if (!allowed.includes(key)) throw new Malformed(`${what} has an unexpected field "${key}"`);
}

function str(o: Json, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new Malformed(`${what}.${key} must be a string`);
  return v;
}

function optStr(o: Json, key: string, what: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new Malformed(`${what}.${key} must be a string or null`);
  return v;
}

function int(o: Json, key: string, what: string, min: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw new Malformed(`${what}.${key} must be an integer ≥ ${min}`);
  return v;
}

function hash(o: Json, key: string, what: string): string {
  const v = o[key];
  if (!isHash(v)) throw new Malformed(`${what}.${key} must be 64 lowercase hex digits`);
  return v;
}

function optRef(o: Json, key: string, what: string): LedgerRef | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new Malformed(`${what}.${key} must be an object { type, id } or null`);
  onlyKeys(v, ['type', 'id'], `${what}.${key}`);
  return { type: str(v, 'type', `${what}.${key}`), id: str(v, 'id', `${what}.${key}`) };
}

const ENTRY_KEYS = [
  'type',
  'tenantId',
  'seq',
  'id',
  'schemaVersion',
  'occurredAt',
  'recordedAt',
  'category',
  'action',
  'outcome',
  'severity',
  'actor',
  'onBehalfOf',
  'target',
  'requestId',
  'traceId',
  'reason',
  'dataText',
  'changesText',
  'prevHash',
  'hash',
];
const ACTOR_KEYS = ['type', 'id', 'name', 'ip', 'userAgent', 'sessionId'];

/** An entry line's object as a LedgerEntry; throws Malformed naming the bad field. */
function parseEntry(o: Json): LedgerEntry {
  const w = 'entry';
  onlyKeys(o, ENTRY_KEYS, w);
  const actor = o.actor;
  if (!isObject(actor)) throw new Malformed('entry.actor must be an object');
  onlyKeys(actor, ACTOR_KEYS, 'entry.actor');
  return {
    tenantId: str(o, 'tenantId', w),
    seq: int(o, 'seq', w, 1),
    id: str(o, 'id', w),
    schemaVersion: int(o, 'schemaVersion', w, 0),
    occurredAt: str(o, 'occurredAt', w),
    recordedAt: str(o, 'recordedAt', w),
    category: str(o, 'category', w),
    action: str(o, 'action', w),
    outcome: str(o, 'outcome', w),
    severity: str(o, 'severity', w),
    actor: {
      type: str(actor, 'type', 'entry.actor'),
      id: str(actor, 'id', 'entry.actor'),
      name: optStr(actor, 'name', 'entry.actor'),
      ip: optStr(actor, 'ip', 'entry.actor'),
      userAgent: optStr(actor, 'userAgent', 'entry.actor'),
      sessionId: optStr(actor, 'sessionId', 'entry.actor'),
    },
    onBehalfOf: optRef(o, 'onBehalfOf', w),
    target: optRef(o, 'target', w),
    requestId: optStr(o, 'requestId', w),
    traceId: optStr(o, 'traceId', w),
    reason: optStr(o, 'reason', w),
    dataText: optStr(o, 'dataText', w),
    changesText: optStr(o, 'changesText', w),
    prevHash: hash(o, 'prevHash', w),
    hash: hash(o, 'hash', w),
  };
}

function parseHeader(o: Json): ExportHeader {
  const w = 'header';
  onlyKeys(o, ['type', 'format', 'tenantId', 'fromSeq', 'toSeq', 'exportedAt'], w);
  if (o.format !== EXPORT_FORMAT)
    throw new Malformed(
      `header.format must be "${EXPORT_FORMAT}" (got ${JSON.stringify(o.format)})`,
    );
  const header = {
    tenantId: str(o, 'tenantId', w),
    fromSeq: int(o, 'fromSeq', w, 1),
    toSeq: int(o, 'toSeq', w, 0),
    exportedAt: str(o, 'exportedAt', w),
  };
  if (header.toSeq < header.fromSeq - 1)
    throw new Malformed(`header.toSeq must be ≥ fromSeq - 1 (${header.fromSeq - 1})`);
  return header;
}

function parseCheckpointLine(o: Json): {
  checkpoint: Checkpoint;
  signature: string;
  keys: AuditKey[];
} {
  onlyKeys(o, ['type', 'checkpoint', 'signature', 'keys'], 'checkpoint line');
  const c = o.checkpoint;
  const w = 'checkpoint';
  if (!isObject(c)) throw new Malformed('checkpoint.checkpoint must be an object');
  onlyKeys(
    c,
    ['tenantId', 'treeSize', 'rootHash', 'issuedAt', 'keyId', 'kind', 'prunedThroughSeq'],
    w,
  );
  if (c.kind !== 'checkpoint' && c.kind !== 'tombstone')
    throw new Malformed('checkpoint.kind must be "checkpoint" or "tombstone"');
  const checkpoint: Checkpoint = {
    tenantId: str(c, 'tenantId', w),
    treeSize: int(c, 'treeSize', w, 0),
    rootHash: hash(c, 'rootHash', w),
    issuedAt: str(c, 'issuedAt', w),
    keyId: str(c, 'keyId', w),
    kind: c.kind,
    prunedThroughSeq:
      c.prunedThroughSeq === null || c.prunedThroughSeq === undefined
        ? null
        : int(c, 'prunedThroughSeq', w, 0),
  };
  const signature = str(o, 'signature', 'checkpoint line');
  if (!Array.isArray(o.keys)) throw new Malformed('checkpoint line.keys must be an array');
  const keys = o.keys.map((k: unknown, i): AuditKey => {
    const kw = `keys[${i}]`;
    if (!isObject(k)) throw new Malformed(`${kw} must be an object`);
    if (!isRawPublicKey(k.publicKey))
      throw new Malformed(`${kw}.publicKey must be a raw 32-byte Ed25519 key in base64url`);
    return {
      keyId: str(k, 'keyId', kw),
      publicKey: k.publicKey,
      notBefore: str(k, 'notBefore', kw),
      notAfter: optStr(k, 'notAfter', kw),
    };
  });
  return { checkpoint, signature, keys };
}

function parseInclusion(o: Json): { seq: number; treeSize: number; proof: Buffer[] } {
  const w = 'inclusion';
  onlyKeys(o, ['type', 'seq', 'treeSize', 'proof'], w);
  if (!Array.isArray(o.proof)) throw new Malformed('inclusion.proof must be an array of hashes');
  const proof = o.proof.map((p: unknown, i) => {
    if (!isHash(p)) throw new Malformed(`inclusion.proof[${i}] must be 64 lowercase hex digits`);
    return Buffer.from(p, 'hex');
  });
  return { seq: int(o, 'seq', w, 1), treeSize: int(o, 'treeSize', w, 1), proof };
}

/**
 * Verifies an NDJSON export read line by line, in constant memory (the previous entry's
 * hash and counters only). Checks, naming the first bad line: the header; each entry (one
 * tenant, gap-free seq from fromSeq to toSeq, chained, hash recomputed; seq 1 chains to
 * GENESIS_HASH); the checkpoint's tenant, that it covers toSeq, and its signature (by a
 * trusted key, or without trustedKeys by a key the file lists); the last entry's inclusion
 * proof in the checkpoint's tree, which authenticates the whole range. Trailing blank lines
 * are ignored; any other line after the last expected one is malformed.
 */
export async function verifyExport(
  lines: AsyncIterable<string> | Iterable<string>,
  options: VerifyExportOptions = {},
): Promise<ExportVerified | ExportFailure> {
  let lineNo = 0;
  let stage: 'header' | 'entries' | 'inclusion' | 'done' = 'header';
  let header: ExportHeader | undefined;
  let chain: ChainVerifier | undefined;
  let signed: { checkpoint: Checkpoint; key: AuditKey; keySource: 'trusted' | 'file' } | undefined;
  let blankAt = 0;
  const fail = (kind: ExportFailureKind, message: string, line = lineNo): ExportFailure => ({
    ok: false,
    line,
    kind,
    message,
  });

  for await (const raw of lines) {
    lineNo += 1;
    if (raw.trim() === '') {
      blankAt ||= lineNo;
      continue;
    }
    if (blankAt) return fail('malformed', 'blank line inside the export', blankAt);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return fail('malformed', `not JSON: ${(error as Error).message}`);
    }
    if (!isObject(value)) return fail('malformed', 'a line must be a JSON object');
    try {
      if (stage === 'header') {
        if (value.type !== 'header') return fail('malformed', 'the first line must be the header');
        header = parseHeader(value);
        chain = new ChainVerifier({
          tenantId: header.tenantId,
          fromSeq: header.fromSeq,
          ...(header.fromSeq === 1 ? { prevHash: GENESIS_HASH } : {}),
        });
        stage = 'entries';
      } else if (stage === 'entries' && value.type === 'entry') {
        const entry = parseEntry(value);
        if (header!.fromSeq + chain!.verified > header!.toSeq)
          return fail(
            'malformed',
            `an entry (seq ${entry.seq}) after the header's last seq ${header!.toSeq}`,
          );
        const failure = chain!.add(entry);
        if (failure) return fail(failure.kind, failure.message);
      } else if (stage === 'entries' && value.type === 'checkpoint') {
        const expected = header!.fromSeq + chain!.verified;
        if (expected <= header!.toSeq)
          return fail(
            'gap',
            `the entries end at seq ${expected - 1}, but the header's toSeq is ${header!.toSeq}`,
          );
        const { checkpoint, signature, keys } = parseCheckpointLine(value);
        if (checkpoint.tenantId !== header!.tenantId)
          return fail(
            'tenant_mismatch',
            `the checkpoint is of tenant ${checkpoint.tenantId}, not ${header!.tenantId}`,
          );
        if (checkpoint.treeSize < header!.toSeq)
          return fail(
            'inclusion_invalid',
            `the checkpoint's tree size ${checkpoint.treeSize} does not cover seq ${header!.toSeq}`,
          );
        const resolved = signingKeys(checkpoint, keys, options.trustedKeys);
        const result = verifyCheckpoint(checkpoint, signature, resolved.keys);
        if (result === 'unknown_key')
          return fail(
            'unknown_key',
            options.trustedKeys
              ? `the checkpoint is signed by key ${checkpoint.keyId}, which is not one of the trusted keys (valid at ${checkpoint.issuedAt})`
              : `the checkpoint is signed by key ${checkpoint.keyId}, which the file does not list (valid at ${checkpoint.issuedAt})`,
          );
        if (result === 'bad_signature')
          return fail(
            'bad_signature',
            `the checkpoint's signature is not key ${checkpoint.keyId}'s signature of it`,
          );
        const key = resolved.keys.find(
          (k) => verifyCheckpoint(checkpoint, signature, [k]) === 'ok',
        )!;
        signed = { checkpoint, key, keySource: resolved.source };
        stage = chain!.verified === 0 ? 'done' : 'inclusion';
      } else if (stage === 'inclusion' && value.type === 'inclusion') {
        const { seq, treeSize, proof } = parseInclusion(value);
        const { checkpoint } = signed!;
        if (seq !== header!.toSeq)
          return fail(
            'inclusion_invalid',
            `the proof is for seq ${seq}, not the last entry's ${header!.toSeq}`,
          );
        if (treeSize !== checkpoint.treeSize)
          return fail(
            'inclusion_invalid',
            `the proof is for tree size ${treeSize}, not the checkpoint's ${checkpoint.treeSize}`,
          );
        const leaf = leafHash(chain!.headHash!);
        if (
          !verifyInclusion(leaf, seq - 1, treeSize, proof, Buffer.from(checkpoint.rootHash, 'hex'))
        )
          return fail(
            'inclusion_invalid',
            `entry seq ${seq} is not in the checkpoint's tree of size ${treeSize} (root ${checkpoint.rootHash})`,
          );
        stage = 'done';
      } else {
        return fail('malformed', unexpected(stage, value.type));
      }
    } catch (error) {
      if (error instanceof Malformed) return fail('malformed', error.message);
      throw error;
    }
  }
  const end = lineNo + 1;
  if (stage === 'header') return fail('malformed', 'the file is empty: no header', end);
  if (stage === 'entries') {
    const expected = header!.fromSeq + chain!.verified;
    if (expected <= header!.toSeq)
      return fail(
        'gap',
        `the file ends at seq ${expected - 1}, but the header's toSeq is ${header!.toSeq}`,
        end,
      );
    return fail('missing_checkpoint', 'the file ends without a checkpoint line', end);
  }
  if (stage === 'inclusion')
    return fail(
      'inclusion_invalid',
      'the file ends without the inclusion proof of its last entry',
      end,
    );
  return {
    ok: true,
    tenantId: header!.tenantId,
    entries: chain!.verified,
    fromSeq: header!.fromSeq,
    toSeq: header!.toSeq,
    checkpoint: signed!.checkpoint,
    key: signed!.key,
    keySource: signed!.keySource,
  };
}

function unexpected(stage: 'header' | 'entries' | 'inclusion' | 'done', type: unknown): string {
  const got = typeof type === 'string' ? `a "${type}" line` : 'a line without a string "type"';
  switch (stage) {
    case 'entries':
      return `expected an entry or the checkpoint line, got ${got}`;
    case 'inclusion':
      return `expected the inclusion proof line, got ${got}`;
    default:
      return `expected the end of the file, got ${got}`;
  }
}

/** The keys that may have signed the checkpoint, and where they come from. */
function signingKeys(
  checkpoint: Checkpoint,
  fileKeys: readonly AuditKey[],
  trustedKeys: readonly AuditKey[] | undefined,
): { keys: AuditKey[]; source: 'trusted' | 'file' } {
  if (!trustedKeys) return { keys: [...fileKeys], source: 'file' };
  const listed = new Set(
    fileKeys.filter((k) => k.keyId === checkpoint.keyId).map((k) => k.publicKey),
  );
  const keys = trustedKeys
    .filter((k) => k.keyId === checkpoint.keyId || listed.has(k.publicKey))
    .map((k) => ({ ...k, keyId: checkpoint.keyId }));
  return { keys, source: 'trusted' };
}
