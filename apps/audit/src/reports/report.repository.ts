import { Inject, Injectable } from '@nestjs/common';
import { TenantTransactions } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { CONFIGURATION_AREAS } from './report-events.js';

/** The period a report covers and how far into the chain it reads. */
export interface ReportWindow {
  tenantId: string;
  /** Inclusive, on occurred_at. */
  from: Date;
  /** Exclusive. */
  to: Date;
  /** Only entries up to this seq: every query of one report sees the same ledger. */
  throughSeq: number;
}

/** A ledger row as a report reads it. */
export interface ReportEventRow {
  seq: number;
  hash: string;
  id: string;
  occurredAt: Date;
  category: string;
  action: string;
  outcome: string;
  severity: string;
  actorType: string;
  actorId: string;
  actorName: string | null;
  onBehalfOfType: string | null;
  onBehalfOfId: string | null;
  targetType: string | null;
  targetId: string | null;
  reason: string | null;
  data: Record<string, unknown> | null;
  changes: Record<string, unknown> | null;
}

/** The latest signed checkpoint of a tenant's chain. */
export interface CheckpointRow {
  treeSize: number;
  rootHash: string;
  issuedAt: Date;
  keyId: string;
  kind: 'checkpoint' | 'tombstone';
}

/** Sign-in attempts grouped by user, action and failure reason. */
export interface SignInCountRow {
  userId: string | null;
  action: string;
  outcome: string;
  why: string | null;
  count: number;
  last: Date;
}

/** What one principal did in the period. */
export interface ActivityRow {
  actorType: string;
  actorId: string;
  actorName: string | null;
  actions: number;
  denied: number;
  last: Date;
}

/**
 * Which events a list or a count is about: a SQL condition on `e` (the audit_events row)
 * with its parameters numbered from `$5` (`$1`–`$4` are the window's).
 */
export interface EventFilter {
  sql: string;
  params: unknown[];
}

/** The sign-in actions attributed to a user (the target). */
export const SIGN_IN_ACTIONS = ['login.succeeded', 'login.failed', 'login.refused', 'mfa.failed'];
/** Failed sign-ins that name no user (unknown email, refused SSO assertion). */
const UNATTRIBUTED_FAILURES = ['login.failed', 'sso.login.failed'];

/** Events that change who may do what: role grants, user lifecycle, bindings, roles, API keys. */
export const PRIVILEGE_ACTIONS = [
  'user.invited',
  'user.provisioned',
  'user.created',
  'user.updated',
  'user.roles-changed',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'role.created',
  'role.updated',
  'role.deleted',
  'role-binding.created',
  'role-binding.deleted',
  'api_key.created',
  'api_key.rotated',
  'api_key.revoked',
];

/** The privilege-change events (a user.updated only when it changed roles). */
export const PRIVILEGE_FILTER: EventFilter = {
  sql: `e.action = ANY($5::text[])
        AND (e.action <> 'user.updated'
             OR e.data ? 'roles' OR (e.data -> 'changed') ? 'roles'
             OR (e.changes -> 'after') ? 'roles')`,
  params: [PRIVILEGE_ACTIONS],
};

/** Under those prefixes but not a change. */
const NOT_CONFIGURATION = [
  'api_key.first_used',
  'audit_sink.replayed',
  'sso_setup_link.opened',
  'sso_setup_link.open_refused',
];

export const CONFIGURATION_FILTER: EventFilter = {
  sql: `EXISTS (SELECT 1 FROM unnest($5::text[]) AS p(prefix) WHERE starts_with(e.action, p.prefix))
        AND e.action <> ALL($6::text[])`,
  params: [CONFIGURATION_AREAS.map(([prefix]) => prefix), NOT_CONFIGURATION],
};

/**
 * Everything about one user: they acted, were acted on or for, or the event's data names
 * them (`userId`, a role binding's subject).
 */
export function subjectFilter(userId: string): EventFilter {
  return {
    sql: `((e.actor_type IN ('user', 'operator') AND e.actor_id = $5)
           OR (e.target_type IN ('user', 'operator') AND e.target_id = $5)
           OR (e.on_behalf_of_type IN ('user', 'operator') AND e.on_behalf_of_id = $5)
           OR e.data ->> 'userId' = $5
           OR e.data #>> '{after,subject,id}' = $5 OR e.data #>> '{before,subject,id}' = $5
           OR e.changes #>> '{after,subject,id}' = $5 OR e.changes #>> '{before,subject,id}' = $5)`,
    params: [userId],
  };
}

/** The window's condition: the tenant, the period, the chain through `throughSeq`. */
const IN_WINDOW = `e.tenant_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND e.seq <= $4`;

const EVENT_COLUMNS = `e.seq::text AS seq, encode(e.hash, 'hex') AS hash, e.id, e.occurred_at,
  e.category, e.action, e.outcome, e.severity, e.actor_type, e.actor_id, e.actor_name,
  e.on_behalf_of_type, e.on_behalf_of_id, e.target_type, e.target_id, e.reason, e.data, e.changes`;

/** Rows read per round trip when listing events. */
const PAGE = 500;

function windowParams(window: ReportWindow): unknown[] {
  return [window.tenantId, window.from, window.to, String(window.throughSeq)];
}

type Row = Record<string, unknown>;

function toEvent(row: Row): ReportEventRow {
  return {
    seq: Number(row.seq),
    hash: row.hash as string,
    id: row.id as string,
    occurredAt: row.occurred_at as Date,
    category: row.category as string,
    action: row.action as string,
    outcome: row.outcome as string,
    severity: row.severity as string,
    actorType: row.actor_type as string,
    actorId: row.actor_id as string,
    actorName: row.actor_name as string | null,
    onBehalfOfType: row.on_behalf_of_type as string | null,
    onBehalfOfId: row.on_behalf_of_id as string | null,
    targetType: row.target_type as string | null,
    targetId: row.target_id as string | null,
    reason: row.reason as string | null,
    data: row.data as Record<string, unknown> | null,
    changes: row.changes as Record<string, unknown> | null,
  };
}

/** The reports' reads of the ledger: the only code of the reports that touches its tables. */
@Injectable()
export class ReportRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /**
   * The chain's last seq now (0 for an empty chain), its latest signed checkpoint (null
   * before the first) and the last seq retention removed (null when nothing was).
   */
  ledgerState(tenantId: string): Promise<{
    throughSeq: number;
    checkpoint: CheckpointRow | null;
    prunedThroughSeq: number | null;
  }> {
    return this.tx.run(tenantId, async (manager) => {
      const [head] = (await manager.query(
        `SELECT coalesce(max(seq), 0)::text AS seq FROM audit_events WHERE tenant_id = $1`,
        [tenantId],
      )) as Row[];
      const [checkpoint] = (await manager.query(
        `SELECT tree_size::text AS tree_size, encode(root_hash, 'hex') AS root_hash, issued_at,
                key_id, kind
           FROM audit_checkpoints WHERE tenant_id = $1
          ORDER BY audit_checkpoints.tree_size DESC, issued_at DESC LIMIT 1`,
        [tenantId],
      )) as Row[];
      const [pruned] = (await manager.query(
        `SELECT max(pruned_through_seq)::text AS seq FROM audit_checkpoints
          WHERE tenant_id = $1 AND kind = 'tombstone'`,
        [tenantId],
      )) as Row[];
      return {
        throughSeq: Number(head?.seq ?? 0),
        checkpoint: checkpoint
          ? {
              treeSize: Number(checkpoint.tree_size),
              rootHash: checkpoint.root_hash as string,
              issuedAt: checkpoint.issued_at as Date,
              keyId: checkpoint.key_id as string,
              kind: checkpoint.kind as CheckpointRow['kind'],
            }
          : null,
        prunedThroughSeq: pruned?.seq == null ? null : Number(pruned.seq),
      };
    });
  }

  /**
   * The first `limit` events matching `filter` in the window, in chain order, read a page at
   * a time (keyset on seq).
   */
  listEvents(window: ReportWindow, filter: EventFilter, limit: number): Promise<ReportEventRow[]> {
    return this.tx.run(window.tenantId, async (manager) => {
      const rows: ReportEventRow[] = [];
      let after = 0;
      while (rows.length < limit) {
        const page = Math.min(PAGE, limit - rows.length);
        const next = (await manager.query(
          `SELECT ${EVENT_COLUMNS} FROM audit_events e
            WHERE ${IN_WINDOW} AND (${filter.sql}) AND e.seq > $${5 + filter.params.length}
            ORDER BY e.seq LIMIT ${page}`,
          [...windowParams(window), ...filter.params, String(after)],
        )) as Row[];
        rows.push(...next.map(toEvent));
        if (next.length < page) break;
        after = rows[rows.length - 1]!.seq;
      }
      return rows;
    });
  }

  /** How many events match `filter` in the window, and the last one's seq (0 when none). */
  countEvents(
    window: ReportWindow,
    filter: EventFilter,
  ): Promise<{ total: number; lastSeq: number }> {
    return this.tx.run(window.tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT count(*)::int AS total, coalesce(max(e.seq), 0)::text AS last_seq
           FROM audit_events e WHERE ${IN_WINDOW} AND (${filter.sql})`,
        [...windowParams(window), ...filter.params],
      )) as Row[];
      return { total: Number(row?.total ?? 0), lastSeq: Number(row?.last_seq ?? 0) };
    });
  }

  /** Matching events per area (the caller's SQL expression naming an event's area). */
  countBy(
    window: ReportWindow,
    filter: EventFilter,
    key: string,
  ): Promise<{ key: string; count: number }[]> {
    return this.tx.run(window.tenantId, async (manager) => {
      const rows = (await manager.query(
        `SELECT ${key} AS key, count(*)::int AS count FROM audit_events e
          WHERE ${IN_WINDOW} AND (${filter.sql}) GROUP BY 1 ORDER BY 1`,
        [...windowParams(window), ...filter.params],
      )) as Row[];
      return rows.map((row) => ({ key: String(row.key), count: Number(row.count) }));
    });
  }

  /**
   * Sign-in attempts in the window by user (the target; null for failures naming no user),
   * action, outcome and reason, with the last one's time. `userId` narrows to one user.
   */
  signInCounts(window: ReportWindow, userId?: string): Promise<SignInCountRow[]> {
    return this.tx.run(window.tenantId, async (manager) => {
      const rows = (await manager.query(
        `SELECT CASE WHEN e.target_type IN ('user', 'operator') THEN e.target_id END AS user_id,
                e.action, e.outcome,
                CASE WHEN e.outcome = 'failure'
                     THEN coalesce(e.reason, e.data ->> 'failure', e.data ->> 'reason') END AS why,
                count(*)::int AS count, max(e.occurred_at) AS last
           FROM audit_events e
          WHERE ${IN_WINDOW}
            AND ((e.target_type IN ('user', 'operator') AND e.action = ANY($5::text[]))
                 OR (e.target_type IS DISTINCT FROM 'user' AND e.target_type IS DISTINCT FROM 'operator'
                     AND e.action = ANY($6::text[])))
            ${userId === undefined ? '' : `AND e.target_type IN ('user', 'operator') AND e.target_id = $7`}
          GROUP BY 1, 2, 3, 4`,
        [
          ...windowParams(window),
          SIGN_IN_ACTIONS,
          UNATTRIBUTED_FAILURES,
          ...(userId === undefined ? [] : [userId]),
        ],
      )) as Row[];
      return rows.map((row) => ({
        userId: row.user_id as string | null,
        action: row.action as string,
        outcome: row.outcome as string,
        why: row.why as string | null,
        count: Number(row.count),
        last: row.last as Date,
      }));
    });
  }

  /**
   * What each user, operator and API key did in the window: events they were the actor of
   * (sign-ins and authorization decisions aside), requests refused them, their last event.
   */
  activity(window: ReportWindow): Promise<ActivityRow[]> {
    return this.tx.run(window.tenantId, async (manager) => {
      const rows = (await manager.query(
        `SELECT e.actor_type, e.actor_id, max(e.actor_name) AS actor_name,
                (count(*) FILTER (WHERE e.category NOT IN ('authz')
                                   AND NOT (e.action = ANY($5::text[]))))::int AS actions,
                (count(*) FILTER (WHERE e.action = 'authz.denied'))::int AS denied,
                max(e.occurred_at) AS last
           FROM audit_events e
          WHERE ${IN_WINDOW} AND e.actor_type IN ('user', 'operator', 'api_key')
          GROUP BY 1, 2`,
        [...windowParams(window), SIGN_IN_ACTIONS],
      )) as Row[];
      return rows.map((row) => ({
        actorType: row.actor_type as string,
        actorId: row.actor_id as string,
        actorName: row.actor_name as string | null,
        actions: Number(row.actions),
        denied: Number(row.denied),
        last: row.last as Date,
      }));
    });
  }

  /** Privilege changes made to each user in the window (user id → count). */
  privilegeChangesByUser(window: ReportWindow): Promise<Map<string, number>> {
    return this.tx.run(window.tenantId, async (manager: EntityManager) => {
      const rows = (await manager.query(
        `SELECT e.target_id AS user_id, count(*)::int AS count FROM audit_events e
          WHERE ${IN_WINDOW} AND e.target_type IN ('user', 'operator') AND (${PRIVILEGE_FILTER.sql})
          GROUP BY 1`,
        [...windowParams(window), ...PRIVILEGE_FILTER.params],
      )) as Row[];
      return new Map(rows.map((row) => [row.user_id as string, Number(row.count)]));
    });
  }
}
