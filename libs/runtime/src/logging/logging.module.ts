import type { DynamicModule } from '@nestjs/common';
import { HealthPaths } from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { LoggerModule } from 'nestjs-pino';
import type { ServiceConfig } from '../config/config.js';

const QUIET_PATHS = new Set<string>([HealthPaths.live, HealthPaths.ready, HealthPaths.metrics]);

/**
 * JSON logs through pino. Every line carries the service and instance, and, while a
 * NATS message or HTTP request is being handled, its tenant id and request id.
 */
export function loggingModule(config: ServiceConfig): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: {
      level: config.logLevel,
      base: { service: config.service, instance: config.instanceId },
      messageKey: 'msg',
      mixin() {
        const ctx = messageContext.current();
        return ctx ? { tenantId: ctx.tenantId, requestId: ctx.requestId } : {};
      },
      genReqId: (req) => String(req.headers['x-request-id'] ?? ''),
      customProps: () => ({}),
      autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0]!) },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  });
}
