import type { DynamicModule } from '@nestjs/common';
import { HealthPaths } from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { LoggerModule } from 'nestjs-pino';
import type { ServiceConfig } from '../config/config.js';

/** Probe and scrape paths: not worth a log line each. */
export const QUIET_PATHS = new Set<string>([
  HealthPaths.live,
  HealthPaths.ready,
  HealthPaths.metrics,
]);

/**
 * JSON logs through pino. Every line carries the service and instance, and, while a
 * NATS message or HTTP request is being handled, its tenant id and request id.
 * Requests are logged by a Fastify onResponse hook (bootstrap.ts) rather than by
 * pino-http's middleware, which Nest 12 on Fastify did not run for our routes.
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
      autoLogging: false,
    },
  });
}
