import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { NatsRpcServer, NatsService } from '@tenantry/messaging';
import { Logger } from 'nestjs-pino';
import { v7 as uuidv7 } from 'uuid';
import type { ServiceConfig } from './config/config.js';
import { QUIET_PATHS } from './logging/logging.module.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honours a sane incoming `x-request-id`, else makes one; the same id reaches pino-http and every hop. */
export function requestIdFor(raw: {
  headers: Record<string, string | string[] | undefined>;
}): string {
  const given = raw.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : uuidv7();
  raw.headers['x-request-id'] = id;
  return id;
}

export interface BootOptions {
  /** Serve NATS request handlers (every service but the gateway). */
  rpc: boolean;
  /** Errors that mean "a dependency is down" (answered as SERVICE_UNAVAILABLE), e.g. isTransientDbError. */
  isTransientError?: (error: unknown) => boolean;
  /** Called on the app before it listens (gateway: docs, filters). */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/**
 * Starts a service: Fastify HTTP (health, metrics, and for the gateway the API),
 * the NATS request/reply transport, JSON logs, and graceful shutdown on
 * SIGTERM/SIGINT (stop taking work, finish in-flight work, drain NATS), bounded by
 * SHUTDOWN_TIMEOUT_MS.
 */
export async function bootstrapService(
  module: Parameters<typeof NestFactory.create>[0],
  config: ServiceConfig,
  options: BootOptions,
): Promise<INestApplication> {
  const adapter = new FastifyAdapter({
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      requestIdFor(req),
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });

  const logger = app.get(Logger);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', async (request, reply) => {
      if (QUIET_PATHS.has(request.url.split('?')[0]!)) return;
      logger.log({
        msg: 'request completed',
        requestId: String(request.id),
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
      });
    });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    setTimeout(() => {
      logger.error(`shutdown took longer than ${config.shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    logger.log(`${signal}: shutting down (finishing in-flight work, draining NATS)`);
    try {
      await app.close();
      logger.log('stopped');
      process.exit(0);
    } catch (error) {
      logger.error(`shutdown failed: ${(error as Error).message}`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await options.configure?.(app);
  if (options.rpc) {
    app.connectMicroservice(
      { strategy: new NatsRpcServer(app.get(NatsService), options.isTransientError) },
      { inheritAppConfig: false },
    );
    await app.startAllMicroservices();
  }
  await app.listen(config.httpPort, config.httpHost);
  logger.log(
    `${config.service} ready: http://${config.httpHost}:${config.httpPort}` +
      (config.namespace.name ? ` (namespace ${config.namespace.name})` : ''),
  );
  return app;
}
