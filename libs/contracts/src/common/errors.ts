import { z } from 'zod';

/**
 * Every error that crosses a process boundary carries one of these codes.
 * The gateway turns a code into an HTTP status and an RFC 9457 problem document
 * with the table below; services never pick HTTP statuses themselves.
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  NotFound = 'NOT_FOUND',
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  RequestTimeout = 'REQUEST_TIMEOUT',
  UriTooLong = 'URI_TOO_LONG',
  HeadersTooLarge = 'HEADERS_TOO_LARGE',
  Conflict = 'CONFLICT',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
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

/** The one table from error code to HTTP status and problem title. */
export const ERROR_HTTP_MAP: Readonly<Record<ErrorCode, ErrorCodeInfo>> = {
  [ErrorCode.ValidationFailed]: { status: 400, title: 'Invalid request' },
  [ErrorCode.Unauthenticated]: { status: 401, title: 'Authentication required' },
  [ErrorCode.Forbidden]: { status: 403, title: 'Forbidden' },
  [ErrorCode.NotFound]: { status: 404, title: 'Not found' },
  [ErrorCode.MethodNotAllowed]: { status: 405, title: 'Method not allowed' },
  [ErrorCode.RequestTimeout]: { status: 408, title: 'Request timeout' },
  [ErrorCode.Conflict]: { status: 409, title: 'Conflict' },
  [ErrorCode.PayloadTooLarge]: { status: 413, title: 'Payload too large' },
  [ErrorCode.UriTooLong]: { status: 414, title: 'URI too long' },
  [ErrorCode.UnsupportedMediaType]: { status: 415, title: 'Unsupported media type' },
  [ErrorCode.HeadersTooLarge]: { status: 431, title: 'Request header fields too large' },
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

/** At most this many field errors are listed in an error; `errorCount` says how many there were. */
export const MAX_FIELD_ERRORS = 20;

export const FieldErrorSchema = z.object({
  field: z.string(),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldErrorSchema>;

/**
 * What the client must do before asking again, in a 403 that it can satisfy: `step-up` has the
 * user do MFA (again), at most `mfaWithinMinutes` before the next request.
 */
export const ObligationSchema = z.object({
  type: z.literal('step-up'),
  mfaWithinMinutes: z.number().int().positive(),
});
export type Obligation = z.infer<typeof ObligationSchema>;

export const ErrorBodySchema = z.object({
  code: z.enum(ErrorCode),
  /** Feature-specific reason, e.g. TENANT_SLUG_TAKEN; `code` alone decides the HTTP status. */
  reason: z.string().optional(),
  message: z.string(),
  errors: z.array(FieldErrorSchema).max(MAX_FIELD_ERRORS).optional(),
  /** How many field errors there were in all, when more than `errors` lists. */
  errorCount: z.number().int().optional(),
  /** For SERVICE_UNAVAILABLE, RATE_LIMITED and in-progress conflicts: when to try again. */
  retryAfterSeconds: z.number().int().positive().optional(),
  /** What would make the same request succeed (a 403 asking for step-up). */
  obligations: z.array(ObligationSchema).optional(),
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
  errors: z.array(FieldErrorSchema).max(MAX_FIELD_ERRORS).optional(),
  errorCount: z.number().int().optional(),
  /** What would make the same request succeed: `step-up` (MFA within `mfaWithinMinutes`). */
  obligations: z.array(ObligationSchema).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;

export interface AppErrorOptions {
  /** Feature-specific reason code, e.g. TENANT_SLUG_TAKEN. */
  reason?: string;
  /** Shorthand for one field error whose message is the error's message. */
  field?: string;
  errors?: FieldError[];
  /** Total number of field errors when `errors` lists only the first MAX_FIELD_ERRORS. */
  errorCount?: number;
  retryAfterSeconds?: number;
  /** What would make the same request succeed (step-up). */
  obligations?: Obligation[];
}

/**
 * The one error base of the platform: a code (which decides the HTTP status), a
 * message that says what was wrong and what to do, an optional feature reason and
 * the fields at fault. Services throw it (through per-feature factories), the RPC
 * transport carries it as an ErrorBody, the gateway maps it to problem details in
 * one place.
 */
export class AppError extends Error {
  readonly reason?: string;
  readonly errors?: FieldError[];
  readonly errorCount?: number;
  readonly retryAfterSeconds?: number;
  readonly obligations?: Obligation[];

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.reason = options.reason;
    const errors = options.errors ?? (options.field ? [{ field: options.field, message }] : []);
    if (errors.length) {
      this.errors = errors.slice(0, MAX_FIELD_ERRORS);
      const count = Math.max(options.errorCount ?? 0, errors.length);
      if (count > this.errors.length) this.errorCount = count;
    }
    this.retryAfterSeconds = options.retryAfterSeconds;
    if (options.obligations?.length) this.obligations = options.obligations;
  }

  toBody(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
      ...(this.errorCount ? { errorCount: this.errorCount } : {}),
      ...(this.retryAfterSeconds ? { retryAfterSeconds: this.retryAfterSeconds } : {}),
      ...(this.obligations ? { obligations: this.obligations } : {}),
    };
  }

  static fromBody(body: ErrorBody): AppError {
    return new AppError(body.code, body.message, body);
  }
}
