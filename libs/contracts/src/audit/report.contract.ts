import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { strictObject, TimestampSchema, UuidSchema } from '../common/primitives.js';
import { SessionSchema } from '../identity/session.contract.js';
import { AuditReaderSchema } from './audit-event.contract.js';
import { UserSchema } from '../identity/user.contract.js';

/**
 * Compliance reports over a tenant's audit ledger, for a period: JSON for tools, or a
 * self-contained HTML document to hand to an auditor. Each one is itself audited
 * (`audit.report.generated`).
 */
export const AUDIT_REPORT_KINDS = [
  'access-review',
  'subject-access',
  'configuration-changes',
] as const;
export type AuditReportKind = (typeof AUDIT_REPORT_KINDS)[number];

export const AUDIT_REPORT_FORMATS = ['json', 'html'] as const;
export type AuditReportFormat = (typeof AUDIT_REPORT_FORMATS)[number];

/** How long the gateway waits for a report (a year of a large tenant's ledger takes a while). */
export const AUDIT_REPORT_TIMEOUT_MS = 60_000;

/** The longest period a report covers. */
export const AUDIT_REPORT_MAX_DAYS = 366;

const DAY_MS = 86_400_000;

/** `from` strictly before `to`, at most AUDIT_REPORT_MAX_DAYS apart: one error naming `to`. */
function periodInBounds(value: { from: string; to: string }, ctx: z.RefinementCtx): void {
  const from = Date.parse(value.from);
  const to = Date.parse(value.to);
  if (!Number.isFinite(from) || !Number.isFinite(to)) return;
  if (to <= from) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  } else if (to - from > AUDIT_REPORT_MAX_DAYS * DAY_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `must be at most ${AUDIT_REPORT_MAX_DAYS} days after from: ask for a shorter period (or several)`,
    });
  }
}

const PERIOD = {
  /** The period's start (inclusive), on the events' occurredAt. */
  from: TimestampSchema,
  /** The period's end (exclusive). */
  to: TimestampSchema,
  /** `json` (default) or `html` (a printable document). */
  format: z.enum(AUDIT_REPORT_FORMATS, { error: 'must be json or html' }).default('json'),
};

/** The user a subject-access report is about: required, with a message saying so. */
const SubjectUserIdSchema = z.uuid({
  error: (issue) =>
    issue.input === undefined
      ? 'is required for the subject-access report: the id of the user whose data to report'
      : 'must be a UUID',
});

/** Query of `GET …/audit/reports/access-review` and `…/configuration-changes`. */
export const ReportPeriodQuerySchema = strictObject(PERIOD).superRefine(periodInBounds);
/** Query of `GET …/audit/reports/subject-access`. */
export const SubjectAccessQuerySchema = strictObject({
  ...PERIOD,
  userId: SubjectUserIdSchema,
}).superRefine(periodInBounds);

export const ReportPeriodRequestSchema = strictObject({
  tenantId: UuidSchema,
  ...PERIOD,
  /** Who asked, as the gateway saw them: recorded in the report's own audit event. */
  reader: AuditReaderSchema.optional(),
}).superRefine(periodInBounds);
export const SubjectAccessRequestSchema = strictObject({
  tenantId: UuidSchema,
  ...PERIOD,
  userId: SubjectUserIdSchema,
  reader: AuditReaderSchema.optional(),
}).superRefine(periodInBounds);

// ---- The reports ----

const JsonObjectSchema = z.record(z.string(), z.unknown());

/** An event of the ledger as a report lists it: where it sits in the chain, and what happened. */
export const ReportEventSchema = z.object({
  /** Its position in the tenant's chain: ask for its inclusion proof with it. */
  seq: z.number().int().positive(),
  /** Its entry hash (hex), as in the ledger. */
  hash: z.string(),
  id: z.string(),
  occurredAt: TimestampSchema,
  category: z.string(),
  action: z.string(),
  outcome: z.string(),
  severity: z.string(),
  actor: z.object({ type: z.string(), id: z.string(), name: z.string().nullable() }),
  onBehalfOf: z.object({ type: z.string(), id: z.string() }).nullable(),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  reason: z.string().nullable(),
  /** What happened, in a sentence. */
  summary: z.string(),
  /** The state before and after, from the event's `changes` (or the before/after its data carries). */
  changes: z.object({ before: z.unknown(), after: z.unknown() }).nullable(),
  data: JsonObjectSchema.nullable(),
});
export type ReportEvent = z.infer<typeof ReportEventSchema>;

/**
 * A list that may be cut: `total` is how many events matched; when fewer are listed,
 * `truncated` says so and gives the seq range to export for the rest.
 */
export function reportListOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    total: z.number().int().nonnegative(),
    truncated: z
      .object({
        shown: z.number().int().nonnegative(),
        total: z.number().int().nonnegative(),
        /**
         * For a list of events: export this range (`GET …/audit-events/export?fromSeq=&toSeq=`)
         * for every event not listed; null for other lists.
         */
        exportRange: z.object({ fromSeq: z.number().int(), toSeq: z.number().int() }).nullable(),
        message: z.string(),
      })
      .nullable(),
  });
}

/** The signed checkpoint the report ties to. */
export const ReportCheckpointSchema = z.object({
  treeSize: z.number().int().nonnegative(),
  rootHash: z.string(),
  issuedAt: TimestampSchema,
  keyId: z.string(),
  kind: z.enum(['checkpoint', 'tombstone']),
});

/** A part of the report that could not be filled, and why (never a silent gap). */
export const MissingSectionSchema = z.object({
  section: z.string(),
  source: z.string(),
  reason: z.string(),
});
export type MissingSection = z.infer<typeof MissingSectionSchema>;

const ReportHeader = {
  /** The id of the `audit.report.generated` event that records this report in the ledger. */
  reportId: UuidSchema,
  tenantId: UuidSchema,
  period: z.object({ from: TimestampSchema, to: TimestampSchema }),
  generatedAt: TimestampSchema,
  generatedBy: z.object({ type: z.string(), id: z.string() }),
  ledger: z.object({
    /** The report read the chain through this seq (0: the chain was empty). */
    throughSeq: z.number().int().nonnegative(),
    /** The latest signed checkpoint; null when none was issued yet. */
    checkpoint: ReportCheckpointSchema.nullable(),
    /** Entries through this seq were removed by retention (a signed tombstone says so). */
    prunedThroughSeq: z.number().int().nullable(),
  }),
  missingSections: z.array(MissingSectionSchema),
  notes: z.array(z.string()),
};

/** Sign-in attempts of one principal in the period. */
export const SignInStatsSchema = z.object({
  count: z.number().int().nonnegative(),
  last: TimestampSchema.nullable(),
  failed: z.object({
    count: z.number().int().nonnegative(),
    last: TimestampSchema.nullable(),
    /** Failure reason → count (`wrong_password`, `account_locked`, `sso_required`...). */
    reasons: z.record(z.string(), z.number().int()),
  }),
});
export type SignInStats = z.infer<typeof SignInStatsSchema>;

/** What one principal did in the period. */
export const ActivitySchema = z.object({
  signIns: SignInStatsSchema,
  /** Events they were the actor of, sign-ins and authorization decisions aside. */
  actions: z.number().int().nonnegative(),
  /** Requests the authorization refused them. */
  denied: z.number().int().nonnegative(),
  /** Privilege changes made to them (roles, status). */
  privilegeChanges: z.number().int().nonnegative(),
  lastActivityAt: TimestampSchema.nullable(),
});
export type Activity = z.infer<typeof ActivitySchema>;

/** A policy role a user holds, and through which binding. */
export const HeldRoleSchema = z.object({
  roleId: z.string(),
  bindingId: z.string(),
  /** `user` (bound to them) or the group it reaches them through (`tenantry:role:tenant-admin`). */
  via: z.string(),
  /** The role grants every permission (`*:*`). */
  admin: z.boolean(),
});

export const AccessReviewUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  status: z.string(),
  /** Identity roles. */
  roles: z.array(z.string()),
  mfaEnabled: z.boolean(),
  /** Identity's last sign-in, whenever it was. */
  lastLoginAt: TimestampSchema.nullable(),
  /** Policy roles reaching them through bindings; null when the policy service did not answer. */
  policyRoles: z.array(HeldRoleSchema).nullable(),
  /** Holds an admin role (a policy role granting `*:*`, or the tenant-admin identity role). */
  admin: z.boolean(),
  activity: ActivitySchema,
});
export type AccessReviewUser = z.infer<typeof AccessReviewUserSchema>;

export const OtherPrincipalActivitySchema = ActivitySchema.extend({
  principal: z.object({ type: z.string(), id: z.string(), name: z.string().nullable() }),
});

export const ReportRoleBindingSchema = z.object({
  id: z.string(),
  roleId: z.string(),
  roleName: z.string().nullable(),
  /** The role grants every permission (`*:*`). */
  admin: z.boolean(),
  subject: z.object({ type: z.string(), id: z.string() }),
  scope: z.string().nullable(),
  expiresAt: z.string().nullable(),
});

export const UnusedPrivilegeSchema = z.object({
  userId: z.string(),
  email: z.string(),
  displayName: z.string(),
  status: z.string(),
  adminRoles: z.array(z.string()),
  lastLoginAt: TimestampSchema.nullable(),
});

/** SOC 2 access review: who holds which roles, who used them, failed sign-ins, privilege changes. */
export const AccessReviewReportSchema = z.object({
  kind: z.literal('access-review'),
  ...ReportHeader,
  /** Every user identity lists, with roles and activity; null when identity did not answer. */
  users: reportListOf(AccessReviewUserSchema).nullable(),
  /** The tenant's role bindings; null when the policy service did not answer. */
  roleBindings: z.array(ReportRoleBindingSchema).nullable(),
  /** Principals that acted in the period but identity did not list (API keys, operators, deleted users). */
  otherActivity: z.array(OtherPrincipalActivitySchema),
  /** Failed sign-ins that name no user (unknown email, refused SSO assertions). */
  unattributedFailedSignIns: SignInStatsSchema.shape.failed,
  privilegeChanges: reportListOf(ReportEventSchema),
  /** Users holding an admin role who did not sign in during the period; null without identity. */
  unusedPrivileges: z.array(UnusedPrivilegeSchema).nullable(),
});
export type AccessReviewReport = z.infer<typeof AccessReviewReportSchema>;

/** GDPR subject access: everything the ledger and identity hold about one user. */
export const SubjectAccessReportSchema = z.object({
  kind: z.literal('subject-access'),
  ...ReportHeader,
  userId: UuidSchema,
  /** Identity's profile; null when identity did not answer or does not know the user (`profileStatus`). */
  profile: UserSchema.nullable(),
  profileStatus: z.enum(['found', 'not-found', 'unavailable']),
  /** Their sessions as identity has them now; null when identity did not answer. */
  sessions: z.array(SessionSchema).nullable(),
  signIns: SignInStatsSchema,
  /** Every event they are the actor, the target or the principal acted for of, oldest first. */
  events: reportListOf(ReportEventSchema),
  consents: z.object({ tracked: z.literal(false), note: z.string() }),
});
export type SubjectAccessReport = z.infer<typeof SubjectAccessReportSchema>;

export const ConfigurationChangeSchema = ReportEventSchema.extend({
  /** What part of the configuration (`SSO connections`, `Role bindings`...). */
  area: z.string(),
});
export type ConfigurationChange = z.infer<typeof ConfigurationChangeSchema>;

/** Every change to the tenant's configuration, oldest first. */
export const ConfigurationChangesReportSchema = z.object({
  kind: z.literal('configuration-changes'),
  ...ReportHeader,
  changes: reportListOf(ConfigurationChangeSchema),
  /** Changes per area, over every change in the period (listed or not). */
  byArea: z.array(z.object({ area: z.string(), count: z.number().int() })),
});
export type ConfigurationChangesReport = z.infer<typeof ConfigurationChangesReportSchema>;

export type AuditReport = AccessReviewReport | SubjectAccessReport | ConfigurationChangesReport;

/** A report as the RPC answers it: the JSON, or the rendered HTML document. */
function reportReply<T extends z.ZodType>(report: T) {
  return z.discriminatedUnion('format', [
    z.object({ format: z.literal('json'), report }),
    z.object({ format: z.literal('html'), html: z.string() }),
  ]);
}
export const AccessReviewReplySchema = reportReply(AccessReviewReportSchema);
export const SubjectAccessReplySchema = reportReply(SubjectAccessReportSchema);
export const ConfigurationChangesReplySchema = reportReply(ConfigurationChangesReportSchema);

export const AuditReportRpc = {
  accessReview: defineRpc(
    'audit.reports.access-review',
    ReportPeriodRequestSchema,
    AccessReviewReplySchema,
  ),
  subjectAccess: defineRpc(
    'audit.reports.subject-access',
    SubjectAccessRequestSchema,
    SubjectAccessReplySchema,
  ),
  configurationChanges: defineRpc(
    'audit.reports.configuration-changes',
    ReportPeriodRequestSchema,
    ConfigurationChangesReplySchema,
  ),
};
