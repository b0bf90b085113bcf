import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import {
  ContractValidationError,
  ERROR_HTTP_MAP,
  ErrorCode,
  problemType,
  type FieldError,
  type Problem,
} from '@tenantry/contracts';
import { RpcError } from '@tenantry/messaging';
import { IdempotencyError } from '../idempotency/idempotency.exception.js';
import type { FastifyReply, FastifyRequest } from 'fastify';

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthenticated,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
  413: ErrorCode.ValidationFailed,
  415: ErrorCode.ValidationFailed,
  429: ErrorCode.RateLimited,
  503: ErrorCode.ServiceUnavailable,
  504: ErrorCode.Timeout,
};

/** Every error leaves the gateway as RFC 9457 problem details, status chosen by ERROR_HTTP_MAP. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Problems');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { code, detail, reason, errors, status } = this.describe(exception, request);
    const problem: Problem = {
      type: problemType(code),
      title: ERROR_HTTP_MAP[code].title,
      status: status ?? ERROR_HTTP_MAP[code].status,
      detail,
      instance: request.url,
      code,
      ...(reason ? { reason } : {}),
      requestId: String(request.id),
      ...(errors?.length ? { errors } : {}),
    };
    void reply
      .status(problem.status)
      .header('content-type', 'application/problem+json')
      .send(problem);
  }

  private describe(
    exception: unknown,
    request: FastifyRequest,
  ): { code: ErrorCode; detail: string; reason?: string; errors?: FieldError[]; status?: number } {
    if (exception instanceof ContractValidationError) {
      return { code: exception.code, detail: exception.message, errors: exception.errors };
    }
    if (exception instanceof IdempotencyError) {
      return { code: exception.code, detail: exception.message, reason: exception.reason };
    }
    if (exception instanceof RpcError) {
      if (exception.code === ErrorCode.Internal) {
        this.logger.error(`${exception.subject} failed: ${exception.message}`);
      }
      return {
        code: exception.code,
        detail: exception.message,
        reason: exception.reason,
        errors: exception.errors,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code =
        HTTP_STATUS_CODES[status] ??
        (status >= 500 ? ErrorCode.Internal : ErrorCode.ValidationFailed);
      const detail =
        status === 404
          ? `no route ${request.method} ${request.url.split('?')[0]}`
          : exception.message;
      return { code, detail, status };
    }
    const fastifyError = exception as { statusCode?: number; message?: string; code?: string };
    if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
      // Fastify's own rejections: malformed JSON, wrong content type, body too large.
      const code = HTTP_STATUS_CODES[fastifyError.statusCode] ?? ErrorCode.ValidationFailed;
      return {
        code,
        detail: fastifyError.message ?? 'invalid request',
        status: fastifyError.statusCode,
      };
    }
    this.logger.error({ err: exception }, `unhandled error on ${request.method} ${request.url}`);
    return {
      code: ErrorCode.Internal,
      detail: `internal error (request id ${String(request.id)})`,
    };
  }
}
