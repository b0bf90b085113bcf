import { Catch, Inject, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RouteTable } from './route-table.js';
import { toProblem } from './problem-details.js';
import { isScimPath, SCIM_JSON, scimErrorOf } from './scim-errors.js';

/**
 * Every error leaves the gateway as problem details (SCIM's error document under /scim/v2):
 * the mapping is `toProblem`, in one place.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Problems');

  constructor(@Inject(RouteTable) private readonly routes: RouteTable) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, headers, problem, unexpected } = toProblem(
      exception,
      {
        method: request.method,
        url: request.url,
        id: String(request.id),
        contentType: request.headers['content-type'],
      },
      (path) => this.routes.allowedMethods(path),
    );
    if (unexpected) {
      this.logger.error(
        { err: exception, requestId: problem.requestId },
        `${request.method} ${problem.instance ?? '(long path)'} failed`,
      );
    }
    // SCIM clients (Okta, Entra ID) expect SCIM's own error document (RFC 7644 §3.12).
    const scim = isScimPath(request.url);
    void reply
      .status(status)
      .headers({ ...headers, 'content-type': scim ? SCIM_JSON : 'application/problem+json' })
      .send(scim ? scimErrorOf(problem) : problem);
  }
}
