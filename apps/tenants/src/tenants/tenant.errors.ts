import {
  AppError,
  ErrorCode,
  TENANT_NOT_FOUND,
  tenantNotFound,
  type FieldError,
  type TenantStatus,
} from '@tenantry/contracts';

/** Reasons a tenant request fails; clients may rely on them (`reason` in the problem). */
export enum TenantErrorReason {
  SlugTaken = 'TENANT_SLUG_TAKEN',
  NotFound = TENANT_NOT_FOUND,
  StatusConflict = 'TENANT_STATUS_CONFLICT',
  IsolationUnavailable = 'TENANT_ISOLATION_UNAVAILABLE',
  RegionUnknown = 'TENANT_REGION_UNKNOWN',
  SettingsInvalid = 'TENANT_SETTINGS_INVALID',
  UpdateInvalid = 'TENANT_UPDATE_INVALID',
  PlanDowngradeRefused = 'TENANT_PLAN_DOWNGRADE_REFUSED',
  PlanChangeInvalid = 'TENANT_PLAN_CHANGE_INVALID',
  ParticipantUnavailable = 'TENANT_PARTICIPANT_UNAVAILABLE',
}

function either(statuses: readonly TenantStatus[]): string {
  if (statuses.length === 1) return statuses[0]!;
  return `${statuses.slice(0, -1).join(', ')} or ${statuses[statuses.length - 1]}`;
}

export const TenantErrors = {
  slugTaken: (slug: string) =>
    new AppError(ErrorCode.Conflict, `slug "${slug}" is already taken; choose another`, {
      reason: TenantErrorReason.SlugTaken,
      field: 'slug',
    }),

  /** The same answer the gateway gives for another tenant's id (contracts: tenantNotFound). */
  notFound: (id: string) => tenantNotFound(id),

  slugNotFound: (slug: string) =>
    new AppError(ErrorCode.NotFound, `no tenant has the slug "${slug}"`, {
      reason: TenantErrorReason.NotFound,
      field: 'slug',
    }),

  /** A change the tenant's current status does not allow, naming both. */
  statusConflict: (
    tenant: { id: string; slug: string; status: TenantStatus },
    what: string,
    expected: readonly TenantStatus[],
  ) =>
    new AppError(
      ErrorCode.Conflict,
      `tenant ${tenant.slug} (${tenant.id}) is ${tenant.status}: ${what} needs it to be ${either(expected)}`,
      { reason: TenantErrorReason.StatusConflict },
    ),

  isolationUnavailable: (isolation: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `isolation "${isolation}" is not available: this installation keeps every tenant in shared tables under row-level security (isolation "rls")`,
      { reason: TenantErrorReason.IsolationUnavailable, field: 'isolation' },
    ),

  regionUnknown: (region: string, regions: readonly string[]) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `region "${region}" is not served by this installation; it serves ${regions.join(', ')}`,
      { reason: TenantErrorReason.RegionUnknown, field: 'region' },
    ),

  settingsInvalid: (errors: FieldError[]) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `invalid settings: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
      { reason: TenantErrorReason.SettingsInvalid, errors },
    ),

  overrideBothWays: (keys: string[]) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `limits ${keys.join(', ')} are both set (limitOverrides) and cleared (clearOverrides); do one or the other`,
      { reason: TenantErrorReason.UpdateInvalid, field: 'clearOverrides' },
    ),

  /** The new plan's limits are below what the tenant uses: each exceeded limit named. */
  planDowngradeRefused: (slug: string, plan: string, violations: string[], fields: string[]) =>
    new AppError(
      ErrorCode.Conflict,
      `tenant ${slug} cannot move to the plan ${plan} now: ${violations.join('; ')}. Reduce the usage first, or schedule the change with when: period-end`,
      {
        reason: TenantErrorReason.PlanDowngradeRefused,
        errors: fields.map((field, i) => ({ field, message: violations[i]! })),
      },
    ),

  effectiveAtPast: (at: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `effectiveAt ${at} is not in the future; give the end of the current period, or change the plan now`,
      { reason: TenantErrorReason.PlanChangeInvalid, field: 'effectiveAt' },
    ),

  samePlanScheduled: (slug: string, plan: string) =>
    new AppError(
      ErrorCode.Conflict,
      `tenant ${slug} is on the plan ${plan} already: there is nothing to schedule (change it now to cancel a scheduled change)`,
      { reason: TenantErrorReason.PlanChangeInvalid, field: 'plan' },
    ),

  /** A participant (identity, policy, audit) did not answer the usage check. */
  participantsUnavailable: (failures: { service: string; message: string }[]) =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      `the plan cannot be changed now: the usage check needs every service, and ${failures
        .map((f) => `${f.service} did not answer (${f.message})`)
        .join('; ')}. Try again shortly, or schedule the change with when: period-end`,
      { reason: TenantErrorReason.ParticipantUnavailable, retryAfterSeconds: 5 },
    ),
};
