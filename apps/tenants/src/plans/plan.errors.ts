import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a plan request fails; clients may rely on them (`reason` in the problem). */
export enum PlanErrorReason {
  NotFound = 'PLAN_NOT_FOUND',
}

export const PlanErrors = {
  notFound: (key: string, field?: string) =>
    new AppError(
      ErrorCode.NotFound,
      `plan "${key}" does not exist; the plans are free, starter, professional, enterprise and custom`,
      { reason: PlanErrorReason.NotFound, ...(field ? { field } : {}) },
    ),
};
