import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServiceName } from '@tenantry/contracts';
import { loadConfig, type ConfigNeeds, type ServiceConfig } from './config/config.js';
import { sendAfterUnreadBody } from './http/unread-body.js';
import { createLogger, NestPinoLogger, QUIET_PATHS } from './logging/logger.js';

/** Everything that tells one service from another; `runService` does the rest. */
export interface ServiceDefinition {
  name: ServiceName;
  /** Its dependencies, and its own environment variables (a zod object, checked with the rest). */
  needs: ConfigNeeds;
  /** The root module for a parsed configuration. */
  module: (config: ServiceConfig) => DynamicModule;
  /** Called on the app before it listens (the gateway: request hooks, OpenAPI). */
  configure?: (app: NestFastifyApplication, config: ServiceConfig) => void | Promise<void>;
  /** Fastify options on top of the defaults (the gateway: its client error handler). */
  fastify?: FastifyOptions;
}

type FastifyOptions = NonNullable<ConstructorParameters<typeof FastifyAdapter>[0]>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Honours a sane incoming `x-request-id`, else makes one (a random UUID: Node draws them
 * from a cached entropy pool, cheaper per request than a v7 id); the same id reaches the
 * logs and every hop.
 */
export function requestIdFor(raw: {
  headers: Record<string, string | string[] | undefined>;
}): string {
  const given = raw.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  raw.headers['x-request-id'] = id;
  return id;
}

/**
 * Starts a service: reads and checks its configuration (exit 78 naming every bad
 * variable), Fastify HTTP (health, metrics, and for the gateway the API), its Nest
 * modules (NATS, database, request handlers, consumers), JSON logs, and graceful
 * shutdown on SIGTERM or SIGINT, or when the process that started it goes away:
 * stop taking work, finish in-flight work, drain NATS, bounded by SHUTDOWN_TIMEOUT_MS.
 */
export async function runService(definition: ServiceDefinition): Promise<INestApplication> {
  const config = loadConfig(definition.name, definition.needs);
  const logger = createLogger(config);
  const nestLogger = new NestPinoLogger(logger);
  const adapter = new FastifyAdapter({
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      requestIdFor(req),
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    ...definition.fastify,
  } as FastifyOptions);
  const app = await NestFactory.create<NestFastifyApplication>(
    definition.module(config),
    adapter,
    // bodyParser off: Nest would add form-urlencoded bodies; the gateway installs its own JSON-only parser.
    { logger: nestLogger, abortOnError: false, bodyParser: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  // A refusal decided before the body was read (413 from Content-Length) goes out once the
  // rest of the body has been read and dropped, bounded: see discardUnreadBody.
  sendAfterUnreadBody(fastify);
  if (logger.isLevelEnabled('info')) {
    fastify.addHook('onResponse', (request, reply, done) => {
      const path = request.url.split('?')[0]!;
      if (!QUIET_PATHS.has(path)) {
        logger.info(
          {
            requestId: String(request.id),
            method: request.method,
            url: request.url.length > 300 ? `${request.url.slice(0, 300)}…` : request.url,
            status: reply.statusCode,
            responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
          },
          'request completed',
        );
      }
      done();
    });
  }

  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    setTimeout(() => {
      logger.error(`shutdown took longer than ${config.shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    logger.info(`${why}: shutting down (finishing in-flight work, draining NATS)`);
    try {
      await app.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, `shutdown failed: ${(error as Error).message}`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  // Started by a supervisor (npm start, the test harness) over an IPC channel: when that
  // process dies, however it dies, the channel closes and this service stops too.
  if (process.channel) {
    process.once('disconnect', () => void shutdown('the supervising process went away'));
    process.channel.unref();
  }

  await definition.configure?.(app, config);
  await app.listen(config.httpPort, config.httpHost);
  logger.info(
    `${config.service} ready: http://${config.httpHost}:${config.httpPort}` +
      (config.namespace.name ? ` (namespace ${config.namespace.name})` : ''),
  );
  return app;
}
