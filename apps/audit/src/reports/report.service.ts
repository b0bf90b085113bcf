import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable } from '@nestjs/common';
import type {
  AccessReviewReport,
  AccessReviewUser,
  Activity,
  AuditReport,
  AuditReportFormat,
  AuditReportRpc,
  ConfigurationChangesReport,
  MissingSection,
  ReportPeriodRequestSchema,
  RpcResponse,
  SignInStats,
  SubjectAccessReport,
  SubjectAccessRequestSchema,
  User,
} from '@tenantry/contracts';
import { NatsService } from '@tenantry/messaging';
import type { z } from 'zod';
import { ReportAuditor } from './report.auditor.js';
import { ReportErrors } from './report.errors.js';
import { AREA_SQL, toConfigurationChange, toReportEvent } from './report-events.js';
import { renderReport } from './report.html.js';
import { hasAdminIdentityRole, PolicyView } from './report-policy.js';
import {
  CONFIGURATION_FILTER,
  PRIVILEGE_FILTER,
  ReportRepository,
  subjectFilter,
  type ActivityRow,
  type EventFilter,
  type ReportEventRow,
  type ReportWindow,
  type SignInCountRow,
} from './report.repository.js';
import { MAX_USERS, ReportSources } from './report-sources.js';

type PeriodRequest = z.output<typeof ReportPeriodRequestSchema>;
type SubjectRequest = z.output<typeof SubjectAccessRequestSchema>;

/** Events one list of a report shows at most; beyond, it says so and names the export range. */
export const REPORT_LIST_LIMIT = 1_000;
/** NATS's default max_payload, when the server has not said. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Room left in a reply for the envelope and headers. */
const REPLY_ROOM = 32 * 1024;

/** A reply as the RPC sends it: the report, or its HTML rendering. */
type Reply<R extends AuditReport> =
  { format: 'json'; report: R } | { format: 'html'; html: string };

/** What every report starts from: its id, time, caller and the ledger it reads. */
interface Start {
  reportId: string;
  generatedAt: Date;
  generatedBy: { type: string; id: string };
  window: ReportWindow;
  header: Omit<AuditReport, 'kind' | 'missingSections' | 'notes'>;
  notes: string[];
}

/** Events fetched for a list: up to the limit and one more, with the count over the window. */
interface FetchedEvents {
  rows: ReportEventRow[];
  total: number;
  lastSeq: number;
}

const NO_FAILURES = (): SignInStats['failed'] => ({ count: 0, last: null, reasons: {} });
const NO_SIGN_INS = (): SignInStats => ({ count: 0, last: null, failed: NO_FAILURES() });

function later(a: string | null, b: Date | string | null): string | null {
  const other = b === null ? null : typeof b === 'string' ? b : b.toISOString();
  if (a === null) return other;
  if (other === null) return a;
  return a > other ? a : other;
}

/** Sign-in statistics per user id (null: failures naming no user). */
function signInStats(rows: SignInCountRow[]): Map<string | null, SignInStats> {
  const stats = new Map<string | null, SignInStats>();
  for (const row of rows) {
    const entry = stats.get(row.userId) ?? NO_SIGN_INS();
    if (row.outcome === 'failure') {
      const why = row.why ?? row.action;
      entry.failed.count += row.count;
      entry.failed.last = later(entry.failed.last, row.last);
      entry.failed.reasons[why] = (entry.failed.reasons[why] ?? 0) + row.count;
    } else if (row.action === 'login.succeeded') {
      entry.count += row.count;
      entry.last = later(entry.last, row.last);
    }
    stats.set(row.userId, entry);
  }
  return stats;
}

function activityOf(
  signIns: SignInStats | undefined,
  acted: ActivityRow | undefined,
  privilegeChanges: number,
): Activity {
  const stats = signIns ?? NO_SIGN_INS();
  return {
    signIns: stats,
    actions: acted?.actions ?? 0,
    denied: acted?.denied ?? 0,
    privilegeChanges,
    lastActivityAt: later(later(stats.last, stats.failed.last), acted?.last ?? null),
  };
}

/** The first `limit` rows as a report list, saying how many more there are and where. */
function eventList<T>(fetched: FetchedEvents, limit: number, map: (row: ReportEventRow) => T) {
  const shown = fetched.rows.slice(0, limit);
  const next = fetched.rows[shown.length];
  const missing = fetched.total - shown.length;
  const fromSeq = next?.seq ?? (shown.at(-1)?.seq ?? 0) + 1;
  return {
    items: shown.map(map),
    total: fetched.total,
    truncated:
      missing > 0
        ? {
            shown: shown.length,
            total: fetched.total,
            exportRange: { fromSeq, toSeq: fetched.lastSeq },
            message:
              `${missing} of ${fetched.total} events are not listed here (this list shows the first ` +
              `${shown.length}). Export seq ${fromSeq} to ${fetched.lastSeq} for the rest: the export ` +
              "holds every event of the tenant's chain in that range, these among them.",
          }
        : null,
  };
}

/**
 * Compliance reports over a tenant's ledger for a period: SOC 2 access review, GDPR subject
 * access, configuration change history. Each one reads the chain up to its head when it
 * starts (every query stops at that seq, so counts and lists agree), asks identity and the
 * policy service what only they know (a service that does not answer becomes a named missing
 * section), fits in one NATS reply (lists cut, with the export range of what is not listed),
 * and is recorded in the tenant's chain before it is served.
 */
@Injectable()
export class ReportService {
  constructor(
    @Inject(ReportRepository) private readonly ledger: ReportRepository,
    @Inject(ReportSources) private readonly sources: ReportSources,
    @Inject(ReportAuditor) private readonly auditor: ReportAuditor,
    @Inject(NatsService) private readonly nats: NatsService,
  ) {}

  /** Who holds which roles, who used them, failed sign-ins, privilege changes, unused admin rights. */
  async accessReview(
    request: PeriodRequest,
  ): Promise<RpcResponse<typeof AuditReportRpc.accessReview>> {
    const start = await this.start(request);
    const { window } = start;
    const [directory, policy, signInRows, activityRows, changesByUser, privilege] =
      await Promise.all([
        this.sources.users(request.tenantId),
        this.sources.policy(request.tenantId),
        this.ledger.signInCounts(window),
        this.ledger.activity(window),
        this.ledger.privilegeChangesByUser(window),
        this.fetch(window, PRIVILEGE_FILTER),
      ]);
    const missing: MissingSection[] = [];
    const notes = [...start.notes];

    let view: PolicyView | null = null;
    if (!policy.ok) {
      missing.push({ section: 'Role bindings', source: 'policy', reason: policy.reason });
    } else {
      try {
        view = PolicyView.of(policy.value.document);
        notes.push(
          `Role bindings and policy roles are those of policy version ${policy.value.version}, now.`,
        );
      } catch (error) {
        missing.push({
          section: 'Role bindings',
          source: 'policy',
          reason: `the policy document could not be read: ${(error as Error).message}`,
        });
      }
    }
    if (!view)
      notes.push(
        'Without the policy, a user counts as an admin when identity gives them the tenant-admin role.',
      );

    const signIns = signInStats(signInRows);
    const acted = new Map(activityRows.map((row) => [row.actorId, row]));
    const now = new Date();
    let users: AccessReviewUser[] | null = null;
    if (!directory.ok) {
      missing.push({
        section: 'Users and their roles; unused privileges',
        source: 'identity',
        reason: directory.reason,
      });
    } else {
      if (directory.value.more)
        notes.push(
          `Identity lists more than ${MAX_USERS} users: only the first ${MAX_USERS} are reviewed.`,
        );
      users = directory.value.users.map((user) => {
        const held = view ? view.rolesOf(user, now) : null;
        return {
          id: user.id,
          email: user.email,
          displayName: user.displayName,
          status: user.status,
          roles: user.roles,
          mfaEnabled: user.mfaEnabled,
          lastLoginAt: user.lastLoginAt,
          policyRoles: held,
          admin: held ? held.some((role) => role.admin) : hasAdminIdentityRole(user),
          activity: activityOf(
            signIns.get(user.id),
            acted.get(user.id),
            changesByUser.get(user.id) ?? 0,
          ),
        };
      });
      users.sort((a, b) => Number(b.admin) - Number(a.admin) || a.email.localeCompare(b.email));
    }
    const listed = new Set(users?.map((user) => user.id) ?? []);
    const otherIds = new Set(
      [...acted.keys(), ...[...signIns.keys()].filter((id): id is string => id !== null)].filter(
        (id) => !listed.has(id),
      ),
    );
    const otherActivity = [...otherIds].sort().map((id) => {
      const row = acted.get(id);
      return {
        principal: { type: row?.actorType ?? 'user', id, name: row?.actorName ?? null },
        ...activityOf(signIns.get(id), row, changesByUser.get(id) ?? 0),
      };
    });
    const unusedPrivileges =
      users &&
      users
        .filter((u) => u.admin && u.status !== 'disabled' && u.activity.signIns.count === 0)
        .map((u) => ({
          userId: u.id,
          email: u.email,
          displayName: u.displayName,
          status: u.status,
          adminRoles: u.policyRoles
            ? [...new Set(u.policyRoles.filter((r) => r.admin).map((r) => r.roleId))]
            : u.roles.filter((role) => hasAdminIdentityRole({ roles: [role] })),
          lastLoginAt: u.lastLoginAt,
        }));

    const compose = ([userLimit, changeLimit]: number[]): AccessReviewReport => ({
      kind: 'access-review',
      ...start.header,
      missingSections: missing,
      notes,
      users: users && {
        items: users.slice(0, userLimit),
        total: users.length,
        truncated:
          users.length > userLimit!
            ? {
                shown: userLimit!,
                total: users.length,
                exportRange: null,
                message: `${users.length - userLimit!} of ${users.length} users are not listed: the report would not fit in one reply (admins are listed first). Ask for the users list (GET /v1/tenants/{tenantId}/users) for the rest.`,
              }
            : null,
      },
      roleBindings: view ? view.bindings() : null,
      otherActivity,
      unattributedFailedSignIns: signIns.get(null)?.failed ?? NO_FAILURES(),
      privilegeChanges: eventList(privilege, changeLimit!, toReportEvent),
      unusedPrivileges,
    });
    return this.finish(request, start, compose, [users?.length ?? 0, REPORT_LIST_LIMIT], {
      users: users?.length ?? null,
      privilegeChanges: privilege.total,
    });
  }

  /** Everything about one user in the period: profile, sessions, sign-ins, every event. */
  async subjectAccess(
    request: SubjectRequest,
  ): Promise<RpcResponse<typeof AuditReportRpc.subjectAccess>> {
    const start = await this.start(request);
    const { window } = start;
    const { tenantId, userId } = request;
    const [profile, sessions, signInRows, events] = await Promise.all([
      this.sources.user(tenantId, userId),
      this.sources.sessions(tenantId, userId),
      this.ledger.signInCounts(window, userId),
      this.fetch(window, subjectFilter(userId)),
    ]);
    const missing: MissingSection[] = [];
    if (!profile.ok)
      missing.push({ section: 'Profile', source: 'identity', reason: profile.reason });
    if (!sessions.ok)
      missing.push({ section: 'Sessions', source: 'identity', reason: sessions.reason });
    const notes = [
      ...start.notes,
      'Events are those in which the user acted, was acted on or for, or is named in the data ' +
        "(userId, a role binding's subject). A failed sign-in with an unknown email records only a hash " +
        'of the email and cannot be attributed to anyone.',
    ];
    const user: User | null = profile.ok ? profile.value : null;
    const compose = ([eventLimit]: number[]): SubjectAccessReport => ({
      kind: 'subject-access',
      ...start.header,
      missingSections: missing,
      notes,
      userId,
      profile: user,
      profileStatus: !profile.ok ? 'unavailable' : user ? 'found' : 'not-found',
      sessions: sessions.ok ? sessions.value : null,
      signIns: signInStats(signInRows).get(userId) ?? NO_SIGN_INS(),
      events: eventList(events, eventLimit!, toReportEvent),
      consents: {
        tracked: false,
        note:
          'Tenantry does not record consents: there is no consent record to report for this user. ' +
          'Consents a product collects are held, and reported, by that product.',
      },
    });
    return this.finish(
      request,
      start,
      compose,
      [REPORT_LIST_LIMIT],
      { events: events.total },
      userId,
    );
  }

  /** Every change to the tenant's configuration in the period, with before and after. */
  async configurationChanges(
    request: PeriodRequest,
  ): Promise<RpcResponse<typeof AuditReportRpc.configurationChanges>> {
    const start = await this.start(request);
    const { window } = start;
    const [changes, areas] = await Promise.all([
      this.fetch(window, CONFIGURATION_FILTER),
      this.ledger.countBy(window, CONFIGURATION_FILTER, AREA_SQL),
    ]);
    const compose = ([limit]: number[]): ConfigurationChangesReport => ({
      kind: 'configuration-changes',
      ...start.header,
      missingSections: [],
      notes: start.notes,
      changes: eventList(changes, limit!, toConfigurationChange),
      byArea: areas.map(({ key, count }) => ({ area: key, count })),
    });
    return this.finish(request, start, compose, [REPORT_LIST_LIMIT], { changes: changes.total });
  }

  /** The report's id, time and caller; the ledger's head, checkpoint and retention. */
  private async start(request: PeriodRequest | SubjectRequest): Promise<Start> {
    const reportId = uuidv7();
    const generatedAt = new Date();
    const generatedBy = this.auditor.caller();
    const state = await this.ledger.ledgerState(request.tenantId);
    const from = new Date(request.from);
    const to = new Date(request.to);
    const notes: string[] = [];
    if (!state.checkpoint) {
      notes.push(
        'No signed checkpoint covers this chain yet: the events listed cannot be proven until one is issued.',
      );
    } else if (state.checkpoint.treeSize < state.throughSeq) {
      notes.push(
        `Entries after seq ${state.checkpoint.treeSize} (through ${state.throughSeq}) are not under the latest checkpoint yet: prove them after the next one.`,
      );
    }
    if (state.prunedThroughSeq !== null)
      notes.push(
        `Retention removed the entries through seq ${state.prunedThroughSeq} (a signed tombstone records it): events of the period older than the retention are not in this report.`,
      );
    if (to > generatedAt)
      notes.push(
        'The period ends after the report was generated: it covers events up to now only.',
      );
    return {
      reportId,
      generatedAt,
      generatedBy,
      window: { tenantId: request.tenantId, from, to, throughSeq: state.throughSeq },
      notes,
      header: {
        reportId,
        tenantId: request.tenantId,
        period: { from: from.toISOString(), to: to.toISOString() },
        generatedAt: generatedAt.toISOString(),
        generatedBy,
        ledger: {
          throughSeq: state.throughSeq,
          checkpoint: state.checkpoint && {
            treeSize: state.checkpoint.treeSize,
            rootHash: state.checkpoint.rootHash,
            issuedAt: state.checkpoint.issuedAt.toISOString(),
            keyId: state.checkpoint.keyId,
            kind: state.checkpoint.kind,
          },
          prunedThroughSeq: state.prunedThroughSeq,
        },
      },
    };
  }

  private async fetch(window: ReportWindow, filter: EventFilter): Promise<FetchedEvents> {
    const [rows, count] = await Promise.all([
      this.ledger.listEvents(window, filter, REPORT_LIST_LIMIT + 1),
      this.ledger.countEvents(window, filter),
    ]);
    return { rows, total: count.total, lastSeq: count.lastSeq };
  }

  /**
   * The reply, cut to fit: lists start at `limits` and shrink (in proportion to the excess)
   * until the reply fits in a NATS message; then the report is recorded, and served.
   */
  private async finish<R extends AuditReport>(
    request: {
      tenantId: string;
      format: AuditReportFormat;
      from: string;
      to: string;
      reader?: PeriodRequest['reader'];
    },
    start: Start,
    compose: (limits: number[]) => R,
    limits: number[],
    counts: Record<string, number | null>,
    userId?: string,
  ): Promise<Reply<R>> {
    const budget = (this.nats.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - REPLY_ROOM;
    let current = limits;
    let reply: Reply<R> | undefined;
    let report: R | undefined;
    let bytes = 0;
    for (let attempt = 0; attempt < 12; attempt++) {
      report = compose(current);
      reply =
        request.format === 'html'
          ? { format: 'html', html: renderReport(report) }
          : { format: 'json', report };
      bytes = Buffer.byteLength(JSON.stringify(reply));
      if (bytes <= budget) break;
      if (current.every((limit) => limit === 0)) throw ReportErrors.tooLarge(report.kind, bytes);
      const ratio = (budget / bytes) * 0.9;
      current = current.map((limit) => Math.floor(limit * ratio));
      reply = undefined;
    }
    if (!reply || !report) throw ReportErrors.tooLarge(compose(limits).kind, bytes);
    await this.auditor.record({
      id: start.reportId,
      tenantId: request.tenantId,
      kind: report.kind,
      reader: request.reader,
      userId,
      data: {
        from: report.period.from,
        to: report.period.to,
        format: request.format,
        throughSeq: report.ledger.throughSeq,
        counts,
        cut: current.some((limit, i) => limit < limits[i]!),
        missingSections: report.missingSections.map((m) => m.section),
        ...(userId ? { userId } : {}),
      },
    });
    return reply;
  }
}
