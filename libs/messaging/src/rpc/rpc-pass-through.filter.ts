import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Hands every exception of a NATS handler to NatsRpcServer unchanged. Nest's default
 * RPC filter would turn unknown errors into "Internal server error" before the
 * transport could tell a database outage (SERVICE_UNAVAILABLE) from a bug (INTERNAL).
 */
@Catch()
export class RpcPassThroughFilter implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
