import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { actorOf } from '@tenantry/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { IdempotencyRepository } from './idempotency.repository.js';
import { idempotencyKey, IdempotentRequests, requestFingerprint } from './idempotency.js';

/**
 * `Idempotency-Key` on a POST (see IdempotentRequests): a retry with the same key and
 * body by the same caller gets the first response with `Idempotent-Replayed: true`
 * instead of running again.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Idempotency');
  private readonly requests: IdempotentRequests;

  constructor(@Inject(IdempotencyRepository) store: IdempotencyRepository) {
    this.requests = new IdempotentRequests(store, undefined, (what, error) =>
      this.logger.warn(`idempotency store: could not ${what}: ${error.message}`),
    );
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const header = request.headers['idempotency-key'];
    if (header === undefined) return next.handle();
    const caller = request.principal ? actorOf(request.principal) : undefined;
    const key = idempotencyKey(request.method, request.routeOptions.url ?? '', header, caller);
    const fingerprint = requestFingerprint(request.method, request.url, request.body);
    return from(
      this.requests
        .run(key, fingerprint, () => lastValueFrom(next.handle(), { defaultValue: undefined }))
        .then(({ replayed, body }) => {
          if (replayed) void reply.header('idempotent-replayed', 'true');
          return body;
        }),
    );
  }
}
