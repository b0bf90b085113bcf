import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a bulk operation request fails; clients may rely on them (`reason` in the problem). */
export enum BulkOperationErrorReason {
  NotFound = 'BULK_OPERATION_NOT_FOUND',
}

export const BulkOperationErrors = {
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `bulk operation ${id} does not exist`, {
      reason: BulkOperationErrorReason.NotFound,
      field: 'id',
    }),
};
