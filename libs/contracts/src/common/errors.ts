import { z } from 'zod';

/**
 * Every error that crosses a process boundary carries one of these codes.
 * The gateway turns a code into an HTTP status and an RFC 9457 problem document
 * with the table below; services never pick HTTP statuses themselves.
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  RateLimited = 'RATE_LIMITED',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  Timeout = 'TIMEOUT',
  Internal = 'INTERNAL',
}

export interface ErrorCodeInfo {
  status: number;
  title: string;
}

export const ERROR_HTTP_MAP: Readonly<Record<ErrorCode, ErrorCodeInfo>> = {
  [ErrorCode.ValidationFailed]: { status: 400, title: 'Invalid request' },
  [ErrorCode.Unauthenticated]: { status: 401, title: 'Authentication required' },
  [ErrorCode.Forbidden]: { status: 403, title: 'Forbidden' },
  [ErrorCode.NotFound]: { status: 404, title: 'Not found' },
  [ErrorCode.Conflict]: { status: 409, title: 'Conflict' },
  [ErrorCode.RateLimited]: { status: 429, title: 'Too many requests' },
  [ErrorCode.Internal]: { status: 500, title: 'Internal error' },
  [ErrorCode.ServiceUnavailable]: { status: 503, title: 'Service unavailable' },
  [ErrorCode.Timeout]: { status: 504, title: 'Upstream timeout' },
};

/** Base of the `type` URI in problem documents: `<base><code in kebab case>`. */
export const PROBLEM_TYPE_BASE = 'https://tenantry.dev/problems/';

export function problemType(code: ErrorCode): string {
  return PROBLEM_TYPE_BASE + code.toLowerCase().replace(/_/g, '-');
}

export const FieldErrorSchema = z.object({
  field: z.string(),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldErrorSchema>;

export const ErrorBodySchema = z.object({
  code: z.enum(ErrorCode),
  /** Feature-specific reason, e.g. TENANT_SLUG_TAKEN; `code` alone decides the HTTP status. */
  reason: z.string().optional(),
  message: z.string(),
  errors: z.array(FieldErrorSchema).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** RFC 9457 problem details as the gateway returns them. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  code: z.enum(ErrorCode),
  reason: z.string().optional(),
  requestId: z.string(),
  errors: z.array(FieldErrorSchema).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;
