import { HttpException } from '@nestjs/common';
import {
  AppError,
  ERROR_HTTP_MAP,
  ErrorCode,
  problemType,
  type FieldError,
  type Obligation,
  type Problem,
} from '@tenantry/contracts';

/** The request as far as a problem document needs it. */
export interface ProblemRequest {
  method: string;
  url: string;
  id: string;
  contentType?: string;
}

export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  problem: Problem;
  /** An error of ours (5xx not caused by a dependency): log it with the request id. */
  unexpected: boolean;
}

interface Described {
  code: ErrorCode;
  detail: string;
  reason?: string;
  errors?: FieldError[];
  errorCount?: number;
  obligations?: Obligation[];
  headers?: Record<string, string>;
  unexpected?: boolean;
}

/** What every 401 says it takes: an access token or an API key, both as a bearer token. */
export const WWW_AUTHENTICATE = 'Bearer realm="tenantry"';

/** A path longer than this is not echoed back (neither in `instance` nor in `detail`). */
const MAX_ECHOED_PATH = 256;
/** Fastify's `maxParamLength` (its default). */
const MAX_PARAM_LENGTH = 100;

/** The request path without the query; `undefined` when it is too long to echo back. */
function pathOf(url: string): string | undefined {
  const path = url.split('?')[0]!;
  return path.length <= MAX_ECHOED_PATH ? path : undefined;
}

/** The path for a sentence: itself when short, else only its length. */
function describePath(url: string): string {
  const path = url.split('?')[0]!;
  return pathOf(url) ?? `(a path of ${path.length} characters)`;
}

const BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthenticated,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  408: ErrorCode.RequestTimeout,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  414: ErrorCode.UriTooLong,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.RateLimited,
  431: ErrorCode.HeadersTooLarge,
  503: ErrorCode.ServiceUnavailable,
  504: ErrorCode.Timeout,
};

function unsupportedMediaType(contentType: string | undefined): string {
  const got = contentType?.split(';')[0]!.trim().slice(0, 100);
  if (!got)
    return 'the request body must be JSON, and no Content-Type was sent: send Content-Type: application/json';
  const hint =
    got.toLowerCase() === 'application/x-www-form-urlencoded'
      ? " (curl -d sends that type unless you add -H 'content-type: application/json')"
      : '';
  return `the request body must be JSON: send Content-Type: application/json, not ${JSON.stringify(got)}${hint}`;
}

interface FastifyLikeError {
  code?: string;
  statusCode: number;
  message?: string;
}

/** A Fastify rejection (router, content-type parsing, body limit), as it is or as Nest wrapped it. */
function fastifyError(exception: unknown): FastifyLikeError | undefined {
  const candidate =
    exception instanceof HttpException && exception.cause ? exception.cause : exception;
  const error = candidate as { code?: unknown; statusCode?: unknown };
  return typeof error?.code === 'string' &&
    error.code.startsWith('FST_') &&
    typeof error.statusCode === 'number' &&
    error.statusCode < 500
    ? (candidate as FastifyLikeError)
    : undefined;
}

/** Fastify's own rejections in words a client can act on; Fastify's texts are not passed on. */
function describeFastify(error: FastifyLikeError, request: ProblemRequest): Described {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        code: ErrorCode.UnsupportedMediaType,
        detail: unsupportedMediaType(request.contentType),
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        code: ErrorCode.PayloadTooLarge,
        detail: 'the request body is too large (limit 1 MiB)',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        code: ErrorCode.ValidationFailed,
        detail: 'the request body is empty: send a JSON object',
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: ErrorCode.ValidationFailed, detail: 'the request body is not valid JSON' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        code: ErrorCode.ValidationFailed,
        detail: 'Content-Length does not match the body sent',
      };
    case 'FST_ERR_BAD_URL':
      return {
        code: ErrorCode.ValidationFailed,
        detail:
          'the URL is malformed (an invalid percent-encoding): encode "%" as %25 and other bytes as UTF-8',
      };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return {
        code: ErrorCode.UriTooLong,
        detail: `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`,
      };
    default:
      break;
  }
  const code = BY_STATUS[error.statusCode] ?? ErrorCode.ValidationFailed;
  return { code, detail: `${ERROR_HTTP_MAP[code].title} (${error.code})` };
}

function describe(
  exception: unknown,
  request: ProblemRequest,
  allowedMethods: (path: string) => string[],
): Described {
  if (exception instanceof AppError) {
    const retry = exception.retryAfterSeconds;
    const headers: Record<string, string> = {};
    if (retry) headers['retry-after'] = String(retry);
    // RFC 9110: a 401 names the scheme that would work.
    if (exception.code === ErrorCode.Unauthenticated)
      headers['www-authenticate'] = WWW_AUTHENTICATE;
    return {
      code: exception.code,
      detail: exception.message,
      reason: exception.reason,
      errors: exception.errors,
      errorCount: exception.errorCount,
      obligations: exception.obligations,
      headers,
      unexpected: exception.code === ErrorCode.Internal,
    };
  }
  const fastify = fastifyError(exception);
  if (fastify) return describeFastify(fastify, request);
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) {
      const allow = allowedMethods(request.url.split('?')[0]!);
      if (allow.length && !allow.includes(request.method)) {
        return {
          code: ErrorCode.MethodNotAllowed,
          detail: `${request.method} is not allowed here; use ${allow.join(', ')}`,
          headers: { allow: allow.join(', ') },
        };
      }
      return {
        code: ErrorCode.NotFound,
        detail: `no route ${request.method} ${describePath(request.url)}`,
      };
    }
    const code = BY_STATUS[status];
    if (code) return { code, detail: exception.message };
    if (status < 500) return { code: ErrorCode.ValidationFailed, detail: exception.message };
  }
  return {
    code: ErrorCode.Internal,
    detail: `internal error (request id ${request.id})`,
    unexpected: true,
  };
}

/**
 * Every error the gateway answers, as an RFC 9457 problem document: the status from
 * the one code table (ERROR_HTTP_MAP), the fields at fault (the first 20, with a
 * count), `Retry-After` where the error says when to retry, `Allow` for a wrong
 * method. An over-long path is not echoed back; an unexpected error's message is
 * not either (it is logged with the request id instead).
 */
export function toProblem(
  exception: unknown,
  request: ProblemRequest,
  allowedMethods: (path: string) => string[] = () => [],
): ProblemResponse {
  const d = describe(exception, request, allowedMethods);
  const status = ERROR_HTTP_MAP[d.code].status;
  const instance = pathOf(request.url);
  return {
    status,
    headers: d.headers ?? {},
    unexpected: d.unexpected ?? false,
    problem: {
      type: problemType(d.code),
      title: ERROR_HTTP_MAP[d.code].title,
      status,
      detail: d.detail,
      ...(instance ? { instance } : {}),
      code: d.code,
      ...(d.reason ? { reason: d.reason } : {}),
      requestId: request.id,
      ...(d.errors?.length ? { errors: d.errors } : {}),
      ...(d.errorCount && d.errors && d.errorCount > d.errors.length
        ? { errorCount: d.errorCount }
        : {}),
      ...(d.obligations?.length ? { obligations: d.obligations } : {}),
    },
  };
}
