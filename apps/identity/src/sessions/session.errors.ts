import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a session request fails; clients may rely on them (`reason` in the problem). */
export enum SessionErrorReason {
  NotFound = 'SESSION_NOT_FOUND',
}

export const SessionErrors = {
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `session ${id} does not exist`, {
      reason: SessionErrorReason.NotFound,
    }),
};
