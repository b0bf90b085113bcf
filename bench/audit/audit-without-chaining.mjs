// Bench-only build of the audit service: the same compiled service (durable consumer, batches of
// 500, one transaction per batch, per-tenant row-level security, the same unnest INSERT into
// audit_events, the acks after the commit), except that the ledger's chaining is switched off
// (unchained-append.mjs: no chain lock, head, hashes or leaves). The audit benchmark runs it
// beside the real service to show what chaining costs. Never used outside bench/.
import { runService } from '@tenantry/runtime';
import { LedgerWriter } from '../../apps/audit/dist/ledger/ledger.writer.js';
import { service } from '../../apps/audit/dist/app.module.js';
import { appendUnchained } from './unchained-append.mjs';

LedgerWriter.prototype.append = appendUnchained;

await runService(service);
