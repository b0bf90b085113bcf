// LedgerWriter#append with the ledger's chaining switched off, for the audit benchmark only:
// the same batching, one transaction per batch (sent as batches of named prepared statements, as
// the real append's), per-tenant row-level security and the same unnest INSERT into audit_events
// as the real append, but no per-tenant chain lock, no head read, no
// hashes (prev_hash and hash are 32 zero bytes), no audit_leaves, audit_heads or audit_tenants
// rows; seq is the JetStream stream sequence (unique, so the table's constraints hold) and
// duplicates are skipped by ON CONFLICT DO NOTHING on the primary key instead of a read. Used by
// audit-without-chaining.mjs (the service) and by the in-process writer rows of index.mjs.
// Its rows are not a ledger (they do not verify). Never used outside bench/.
import { setTenantStatement, statement } from '@tenantry/persistence';
import { entryContent } from '../../apps/audit/dist/ledger/ledger.writer.js';

/** The columns the real append writes (LedgerRepository's APPEND_COLUMNS), with their array types. */
const COLUMNS = [
  ['id', 'uuid', (c) => c.id],
  ['seq', 'bigint', (c, streamSequence) => String(streamSequence)],
  ['schema_version', 'smallint', (c) => c.schemaVersion],
  ['occurred_at_text', 'text', (c) => c.occurredAt],
  ['recorded_at', 'text', (c) => c.recordedAt],
  ['category', 'text', (c) => c.category],
  ['action', 'text', (c) => c.action],
  ['outcome', 'text', (c) => c.outcome],
  ['severity', 'text', (c) => c.severity],
  ['actor_type', 'text', (c) => c.actor.type],
  ['actor_id', 'text', (c) => c.actor.id],
  ['actor_name', 'text', (c) => c.actor.name ?? null],
  ['actor_ip', 'text', (c) => c.actor.ip ?? null],
  ['actor_user_agent', 'text', (c) => c.actor.userAgent ?? null],
  ['actor_session_id', 'text', (c) => c.actor.sessionId ?? null],
  ['on_behalf_of_type', 'text', (c) => c.onBehalfOf?.type ?? null],
  ['on_behalf_of_id', 'text', (c) => c.onBehalfOf?.id ?? null],
  ['target_type', 'text', (c) => c.target?.type ?? null],
  ['target_id', 'text', (c) => c.target?.id ?? null],
  ['request_id', 'text', (c) => c.requestId ?? null],
  ['trace_id', 'text', (c) => c.traceId ?? null],
  ['reason', 'text', (c) => c.reason ?? null],
  ['data_text', 'text', (c) => c.dataText],
  ['changes_text', 'text', (c) => c.changesText],
  ['stream_sequence', 'bigint', (c, streamSequence) => String(streamSequence)],
];

const ZERO_HASH = `decode(repeat('00', 32), 'hex')`;

/** The real append's INSERT … SELECT FROM unnest(…), without the leaves, head and tenant rows. */
const INSERT_SQL = `
  WITH e AS (
    INSERT INTO audit_events (tenant_id, ${COLUMNS.map(([c]) => c).join(', ')},
                              prev_hash, hash, occurred_at, data, changes)
    SELECT $1::uuid, ${COLUMNS.map(([c]) => (c === 'recorded_at' ? 'u.recorded_at::timestamptz' : `u.${c}`)).join(', ')},
           ${ZERO_HASH}, ${ZERO_HASH},
           u.occurred_at_text::timestamptz, u.data_text::jsonb, u.changes_text::jsonb
      FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 2}::${type}[]`).join(', ')})
        AS u(${COLUMNS.map(([c]) => c).join(', ')})
    ON CONFLICT DO NOTHING
    RETURNING 1
  )
  SELECT count(*)::int AS n FROM e`;
const INSERT = { name: 'bench.audit-unchained-insert', text: INSERT_SQL };

/**
 * LedgerWriter#append with chaining off (`this` is the LedgerWriter: it uses its repository):
 * one round trip per batch (BEGIN, per tenant its row-level security and its INSERT, COMMIT),
 * where the real append takes two (the chains' locks and heads first).
 */
export async function appendUnchained(events) {
  const byTenant = new Map();
  for (const item of events) {
    const tenantId = item.event.tenantId.toLowerCase();
    const list = byTenant.get(tenantId) ?? [];
    list.push(item);
    byTenant.set(tenantId, list);
  }
  const tenants = [...byTenant.keys()].sort();
  const recordedAt = new Date().toISOString();
  const rows = await this.ledger.inBatches((tx) =>
    tx.run(
      tenants.flatMap((tenantId) => {
        const contents = byTenant
          .get(tenantId)
          .map(({ event, streamSequence }) => [
            entryContent(event, streamSequence, recordedAt),
            streamSequence,
          ]);
        return [
          setTenantStatement(tenantId),
          statement(INSERT, [
            tenantId,
            ...COLUMNS.map(([, , value]) => contents.map(([content, seq]) => value(content, seq))),
          ]),
        ];
      }),
      { commit: true },
    ),
  );
  const appended = tenants.reduce((sum, _, i) => sum + rows[2 * i + 1][0].n, 0);
  return { appended, duplicates: events.length - appended, refused: [] };
}
