// @tenantry/audit-ledger: the audit ledger's pure definitions (canonical entry encoding,
// hash chain, RFC 9162 Merkle trees and proofs, signed checkpoints, verification), shared
// by the audit service, the offline verifier and anyone re-verifying an export.
export {
  canonicalEntry,
  ENTRY_MAGIC,
  entryFields,
  entryHash,
  GENESIS_HASH,
  type LedgerEntry,
  type LedgerEntryContent,
  type LedgerRef,
} from './canonical.js';
export {
  canonicalCheckpoint,
  CHECKPOINT_MAGIC,
  isRawPublicKey,
  publicKeyJwk,
  publicKeyObject,
  rawPublicKey,
  signCheckpoint,
  verifyCheckpoint,
  type AuditKey,
  type Checkpoint,
  type CheckpointKind,
} from './checkpoint.js';
export { ABSENT_LENGTH, isHash } from './encoding.js';
export {
  checkpointLine,
  entryLine,
  EXPORT_FORMAT,
  headerLine,
  inclusionLine,
  verifyExport,
  type ExportFailure,
  type ExportFailureKind,
  type ExportHeader,
  type ExportVerified,
  type VerifyExportOptions,
} from './export-file.js';
export {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MerkleAccumulator,
  merkleRoot,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
export {
  ChainVerifier,
  verifyChain,
  type ChainFailure,
  type ChainFailureKind,
  type ChainOptions,
} from './verify.js';
