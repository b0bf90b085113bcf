import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { IdempotencyError } from './idempotency.exception.js';
import { IdempotencyRepository } from './idempotency.repository.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const PENDING_TTL_MS = 60_000;
const RESULT_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * `Idempotency-Key` on a POST: the first request runs; a retry with the same key
 * and the same body gets the stored response (with `Idempotent-Replayed: true`)
 * instead of running again; the same key with a different body is refused. Keys
 * live 24 hours. A failed request releases its key, so the client may retry it.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Idempotency');

  constructor(@Inject(IdempotencyRepository) private readonly records: IdempotencyRepository) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const header = request.headers['idempotency-key'];
    if (header === undefined) return next.handle();
    if (typeof header !== 'string' || !KEY_PATTERN.test(header))
      throw IdempotencyError.invalidKey();
    const key = `${request.method}:${request.routeOptions.url}:${header}`;
    const fingerprint = createHash('sha256')
      .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
      .digest('base64url');
    return from(this.run(key, fingerprint, reply, next));
  }

  private async run(
    key: string,
    fingerprint: string,
    reply: FastifyReply,
    next: CallHandler,
  ): Promise<unknown> {
    let claimed: boolean;
    try {
      claimed = await this.records.claim(key, fingerprint, PENDING_TTL_MS);
    } catch (error) {
      this.logger.warn(`idempotency store failed: ${(error as Error).message}`);
      throw IdempotencyError.storeUnavailable();
    }
    if (!claimed) {
      const existing = await this.records.get(key).catch(() => null);
      if (!existing) throw IdempotencyError.inProgress();
      if (existing.fingerprint !== fingerprint) throw IdempotencyError.reused();
      if (existing.state === 'pending') throw IdempotencyError.inProgress();
      void reply.header('idempotent-replayed', 'true');
      return existing.body;
    }
    try {
      const body = await lastValueFrom(next.handle(), { defaultValue: undefined });
      await this.records
        .complete(key, { state: 'done', fingerprint, body }, RESULT_TTL_MS)
        .catch((error: Error) =>
          this.logger.warn(`could not store idempotent result: ${error.message}`),
        );
      return body;
    } catch (error) {
      await this.records.release(key).catch(() => undefined);
      throw error;
    }
  }
}
