import { CreateAuditEvents1763900000000 } from './1763900000000-create-audit-events.js';
import { CreateAuditLedgerTables1764500000100 } from './1764500000100-create-audit-ledger-tables.js';
import { ChainAuditEvents1764500000110 } from './1764500000110-chain-audit-events.js';
import { CreateAuditPrune1764500000120 } from './1764500000120-create-audit-prune.js';
import { IndexAuditSearch1764500000200 } from './1764500000200-index-audit-search.js';
import { CreateAuditSinks1764500000300 } from './1764500000300-create-audit-sinks.js';
import { CreateAuditPurge1764600000450 } from './1764600000450-create-audit-purge.js';

export const migrations = [
  CreateAuditEvents1763900000000,
  CreateAuditLedgerTables1764500000100,
  ChainAuditEvents1764500000110,
  CreateAuditPrune1764500000120,
  IndexAuditSearch1764500000200,
  CreateAuditSinks1764500000300,
  CreateAuditPurge1764600000450,
];
