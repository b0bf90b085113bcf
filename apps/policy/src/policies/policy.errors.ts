import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a policy (deny rule) request fails; clients may rely on them (`reason` in the problem). */
export enum PolicyErrorReason {
  NotFound = 'POLICY_NOT_FOUND',
}

export const PolicyErrors = {
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `policy ${id} does not exist`, {
      reason: PolicyErrorReason.NotFound,
    }),
};
