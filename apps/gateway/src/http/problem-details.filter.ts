import { Catch, Inject, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RouteTable } from './route-table.js';
import { toProblem } from './problem-details.js';

/** Every error leaves the gateway as problem details: the mapping is `toProblem`, in one place. */
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
    void reply
      .status(status)
      .headers({ ...headers, 'content-type': 'application/problem+json' })
      .send(problem);
  }
}
