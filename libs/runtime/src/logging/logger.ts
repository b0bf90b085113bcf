import type { LoggerService } from '@nestjs/common';
import { HealthPaths } from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { pino, type Logger as Pino } from 'pino';
import type { ServiceConfig } from '../config/config.js';

/** Probe and scrape paths: not worth a log line each. */
export const QUIET_PATHS = new Set<string>([
  HealthPaths.live,
  HealthPaths.ready,
  HealthPaths.metrics,
]);

/**
 * The process's JSON logger (pino, one line per entry on stdout). Every line carries
 * the service and instance, and, while a NATS message or HTTP request is handled, its
 * tenant id and request id.
 */
export function createLogger(
  config: Pick<ServiceConfig, 'logLevel' | 'service' | 'instanceId'>,
): Pino {
  return pino({
    level: config.logLevel,
    base: { service: config.service, instance: config.instanceId },
    messageKey: 'msg',
    mixin() {
      const ctx = messageContext.current();
      return ctx ? { tenantId: ctx.tenantId, requestId: ctx.requestId } : {};
    },
  });
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Nest's LoggerService on pino. Nest's `Logger` appends its context as the last
 * argument; an object first argument becomes fields (`logger.error({ err }, 'msg')`).
 */
export class NestPinoLogger implements LoggerService {
  constructor(readonly pino: Pino) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const rest = [...params];
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    let msg: string;
    if (message instanceof Error) {
      fields.err = message;
      msg = message.message;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(fields, message);
      msg = typeof rest[0] === 'string' ? (rest.shift() as string) : String(fields.msg ?? '');
      delete fields.msg;
    } else {
      msg = String(message);
    }
    const stack = rest[0];
    if (level === 'error' && typeof stack === 'string' && stack.includes('\n    at '))
      fields.stack = stack;
    this.pino[level](fields, msg);
  }
}
