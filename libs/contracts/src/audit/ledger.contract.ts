import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import {
  integer,
  PageQuerySchema,
  pageOf,
  strictObject,
  TimestampSchema,
  UuidSchema,
} from '../common/primitives.js';
import { AUDIT_MAX_SEQ, AuditEventSchema, AuditReaderSchema } from './audit-event.contract.js';

/**
 * The audit ledger's evidence (audit-design.md, README): the checkpoint signing keys, each
 * tenant's signed checkpoints, inclusion and consistency proofs (RFC 9162), and `verify`.
 * Hashes are 64 lowercase hex digits; signatures and public keys base64url.
 */

const HashSchema = z.string().regex(/^[0-9a-f]{64}$/);
const SeqSchema = z.number().int().min(1);
const TreeSizeSchema = z.number().int().min(0);

/** A checkpoint signing key's public half (Ed25519), also as a JWK (RFC 8037). */
export const AuditKeySchema = z.object({
  keyId: z.string(),
  /** The raw 32-byte public key, base64url without padding. */
  publicKey: z.string(),
  /** The key signs checkpoints issued from then… */
  notBefore: TimestampSchema,
  /** …until then; null while it is the current key. */
  notAfter: TimestampSchema.nullable(),
  jwk: z.object({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519'),
    x: z.string(),
    kid: z.string(),
    alg: z.literal('EdDSA'),
    use: z.literal('sig'),
  }),
});
export type AuditKeyInfo = z.infer<typeof AuditKeySchema>;
export const AuditKeysSchema = z.object({ keys: z.array(AuditKeySchema) });

export const AUDIT_CHECKPOINT_KINDS = ['checkpoint', 'tombstone'] as const;

/** What is signed: "the tenant's tree of `treeSize` entries has root `rootHash`". */
export const AuditCheckpointSchema = z.object({
  tenantId: UuidSchema,
  treeSize: TreeSizeSchema,
  rootHash: HashSchema,
  issuedAt: TimestampSchema,
  keyId: z.string(),
  kind: z.enum(AUDIT_CHECKPOINT_KINDS),
  /** Tombstones (written by retention): the last seq removed; otherwise null. */
  prunedThroughSeq: SeqSchema.nullable(),
});
export type AuditCheckpoint = z.infer<typeof AuditCheckpointSchema>;

/** A checkpoint with its Ed25519 signature (base64url) over its canonical bytes. */
export const SignedAuditCheckpointSchema = z.object({
  checkpoint: AuditCheckpointSchema,
  signature: z.string(),
});
export type SignedAuditCheckpoint = z.infer<typeof SignedAuditCheckpointSchema>;

export const ListAuditCheckpointsRequestSchema = strictObject({
  ...PageQuerySchema.shape,
  tenantId: UuidSchema,
  /** The client as the gateway saw it, for the `audit.read` event this read records. */
  reader: AuditReaderSchema.optional(),
});
export const AuditCheckpointPageSchema = pageOf(SignedAuditCheckpointSchema);

export const InclusionProofQuerySchema = strictObject({
  /** The entry. */
  seq: integer(1, AUDIT_MAX_SEQ),
  /** The tree it is proved in; default: the latest checkpoint's. */
  treeSize: integer(1, AUDIT_MAX_SEQ).optional(),
});
export const InclusionProofRequestSchema = strictObject({
  ...InclusionProofQuerySchema.shape,
  tenantId: UuidSchema,
  reader: AuditReaderSchema.optional(),
});

/** RFC 9162 §2.1.3: the audit path of entry `seq` (leaf index seq − 1) in the tree of `treeSize`. */
export const InclusionProofSchema = z.object({
  tenantId: UuidSchema,
  seq: SeqSchema,
  leafIndex: TreeSizeSchema,
  treeSize: SeqSchema,
  /** The entry's hash (the leaf data). */
  entryHash: HashSchema,
  /** SHA-256(0x00 ‖ entry hash). */
  leafHash: HashSchema,
  /** Deepest sibling first. */
  proof: z.array(HashSchema),
  /** The root of the tree of `treeSize` entries. */
  rootHash: HashSchema,
  /** The signed checkpoint of that tree size, when one was issued. */
  checkpoint: SignedAuditCheckpointSchema.nullable(),
});
export type InclusionProof = z.infer<typeof InclusionProofSchema>;

export const ConsistencyProofQuerySchema = strictObject({
  /** The older tree size. */
  from: integer(1, AUDIT_MAX_SEQ),
  /** The newer tree size (≥ from). */
  to: integer(1, AUDIT_MAX_SEQ),
});
export const ConsistencyProofRequestSchema = strictObject({
  ...ConsistencyProofQuerySchema.shape,
  tenantId: UuidSchema,
  reader: AuditReaderSchema.optional(),
});

/** RFC 9162 §2.1.4: the tree of `from` entries is a prefix of the tree of `to` entries. */
export const ConsistencyProofSchema = z.object({
  tenantId: UuidSchema,
  from: SeqSchema,
  to: SeqSchema,
  fromRoot: HashSchema,
  toRoot: HashSchema,
  proof: z.array(HashSchema),
  /** The signed checkpoints of those sizes, when they were issued. */
  fromCheckpoint: SignedAuditCheckpointSchema.nullable(),
  toCheckpoint: SignedAuditCheckpointSchema.nullable(),
});
export type ConsistencyProof = z.infer<typeof ConsistencyProofSchema>;

export const VerifyAuditLedgerBodySchema = strictObject({
  /** First entry to check; default 1 (or the first entry retention kept). */
  fromSeq: integer(1, AUDIT_MAX_SEQ).optional(),
  /** Last entry to check; default the chain's head. */
  toSeq: integer(1, AUDIT_MAX_SEQ).optional(),
});
export const VerifyAuditLedgerRequestSchema = strictObject({
  ...VerifyAuditLedgerBodySchema.shape,
  tenantId: UuidSchema,
  reader: AuditReaderSchema.optional(),
});

/**
 * What `verify` can find wrong: `chain_break` (an entry's prev_hash is not its predecessor's
 * hash), `altered` (an entry does not hash to its stored hash, or is not the entry sealed at
 * its position), `gap` (a seq is missing), `bad_signature`, `unknown_key` (no published key
 * with that id valid when the checkpoint was issued), `root_mismatch` (a signed root is not
 * the root of the stored leaves).
 */
export const AUDIT_VERIFY_FAILURE_KINDS = [
  'chain_break',
  'altered',
  'gap',
  'bad_signature',
  'unknown_key',
  'root_mismatch',
] as const;
export type AuditVerifyFailureKind = (typeof AUDIT_VERIFY_FAILURE_KINDS)[number];

export const AuditVerificationSchema = z.object({
  ok: z.boolean(),
  /** Entries whose chain was checked. */
  checked: z.number().int().min(0),
  /** Checkpoints whose signature and root were checked. */
  checkpoints: z.number().int().min(0),
  /** The first bad position: an entry's seq, or a checkpoint's tree size. */
  firstBad: z
    .object({
      seq: TreeSizeSchema,
      kind: z.enum(AUDIT_VERIFY_FAILURE_KINDS),
      message: z.string(),
    })
    .optional(),
});
export type AuditVerification = z.infer<typeof AuditVerificationSchema>;

export const AuditLedgerRpc = {
  /** The checkpoint signing keys, current and retired (public). */
  keys: defineRpc('audit.keys.list', strictObject({}), AuditKeysSchema),
  /** A tenant's signed checkpoints, latest first. */
  checkpoints: defineRpc(
    'audit.checkpoints.list',
    ListAuditCheckpointsRequestSchema,
    AuditCheckpointPageSchema,
  ),
  inclusionProof: defineRpc(
    'audit.proofs.inclusion',
    InclusionProofRequestSchema,
    InclusionProofSchema,
  ),
  consistencyProof: defineRpc(
    'audit.proofs.consistency',
    ConsistencyProofRequestSchema,
    ConsistencyProofSchema,
  ),
  verify: defineRpc('audit.ledger.verify', VerifyAuditLedgerRequestSchema, AuditVerificationSchema),
};

// ---- Between audit instances (internal): the chains shared out among the running instances ----

/**
 * Subjects (under the `rpc.` root, apart from every stream) on which the running audit
 * instances share out the tenants' chains: each announces itself on `members` every second
 * (and leaves with `leaving`), owns the tenants that rendezvous hashing of the tenant id over
 * the live members gives it, and appends on `append.<member id>` the events of its tenants
 * that another instance consumed.
 */
export const AuditLedgerPeers = {
  members: 'audit.ledger.members',
  append: (memberId: string): string => `audit.ledger.append.${memberId}`,
} as const;

/** Most events one forwarded append carries (a consumer batch is at most 500). */
export const AUDIT_FORWARD_MAX_EVENTS = 5_000;

export const AuditLedgerMemberBeaconSchema = z.object({
  id: UuidSchema,
  /** Sent once by an instance that stops: the others drop it at once rather than in 3 s. */
  leaving: z.boolean().optional(),
});
export type AuditLedgerMemberBeacon = z.infer<typeof AuditLedgerMemberBeaconSchema>;

/** Events another instance consumed for tenants this one owns, validated again on arrival. */
export const ForwardedAuditAppendSchema = strictObject({
  events: z
    .array(
      z.object({
        event: AuditEventSchema,
        streamSequence: z.number().int().min(1),
        /** Delivered more than once by JetStream: the chain may hold it already. */
        redelivered: z.boolean().optional(),
      }),
    )
    .min(1)
    .max(AUDIT_FORWARD_MAX_EVENTS),
});
export type ForwardedAuditAppend = z.infer<typeof ForwardedAuditAppendSchema>;

/** Sent after the commit: which events were refused (their chain was purged), or why it failed. */
export const ForwardedAuditAppendReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), refused: z.array(z.string()) }),
  z.object({ ok: z.literal(false), transient: z.boolean(), message: z.string() }),
]);
export type ForwardedAuditAppendReply = z.infer<typeof ForwardedAuditAppendReplySchema>;
