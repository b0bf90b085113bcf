import 'reflect-metadata';
import { Controller, type INestApplicationContext } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { AppError, defineRpc, ErrorCode, Namespace, type RpcPayload } from '@tenantry/contracts';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { messageContext, newContext } from '../context/message-context.js';
import type { MessagingOptions } from '../messaging.options.js';
import { NatsService } from '../nats/nats.service.js';
import { RpcClient } from './rpc.client.js';
import { RpcHandler } from './rpc-handler.decorator.js';
import { RpcServer } from './rpc.server.js';
import { TRANSIENT_ERROR } from './transient-error.js';

/** The RPC server of one "service" process: the greeter controller on its own NATS connection. */
async function startServer(nats: NatsService): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers: [GreeterController],
    providers: [
      { provide: NatsService, useValue: nats },
      {
        provide: TRANSIENT_ERROR,
        useValue: (e: unknown) => e instanceof Error && e.message === 'database is down',
      },
      RpcServer,
    ],
  })
    .setLogger(false as never)
    .compile();
  return moduleRef.init();
}

const Greet = defineRpc(
  'greeter.greetings.create',
  z.object({
    name: z.string().min(1, { error: 'must not be empty' }),
    times: z.number().int().default(1),
  }),
  z.object({ text: z.string(), tenantId: z.string().nullable(), requestId: z.string() }),
);
const Fail = defineRpc(
  'greeter.failures.create',
  z.object({ kind: z.enum(['service', 'crash', 'outage']) }),
  z.object({}),
);
const Missing = defineRpc('nobody.things.get', z.object({}), z.object({}));
const Broken = defineRpc('greeter.mistakes.get', z.object({}), z.object({ text: z.string() }));
const Slow = defineRpc('greeter.naps.create', z.object({ ms: z.number().int() }), z.object({}));

@Controller()
class GreeterController {
  @RpcHandler(Greet)
  greet(request: RpcPayload<typeof Greet>) {
    const ctx = messageContext.current();
    return {
      text: `hello ${request.name} x${request.times}`,
      tenantId: ctx?.tenantId ?? null,
      requestId: ctx!.requestId,
    };
  }

  @RpcHandler(Broken)
  broken() {
    // Breaks its contract on purpose (the decorator's types would refuse it otherwise).
    return { txet: 'typo' } as never;
  }

  @RpcHandler(Slow)
  async nap(request: RpcPayload<typeof Slow>) {
    await new Promise((resolve) => setTimeout(resolve, request.ms));
    return {};
  }

  @RpcHandler(Fail)
  fail(request: RpcPayload<typeof Fail>): never {
    if (request.kind === 'service')
      throw new AppError(ErrorCode.Conflict, 'already greeted', { reason: 'GREETER_DUPLICATE' });
    if (request.kind === 'outage') throw new Error('database is down');
    throw new Error('boom');
  }
}

describe('request/reply over NATS (real server)', () => {
  const options: MessagingOptions = {
    service: 'greeter',
    natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    namespace: new Namespace(`m${randomBytes(4).toString('hex')}`),
    requestTimeoutMs: 2_000,
    streams: [],
    streamReplicas: 1,
    instanceId: 'test',
  };
  let app: INestApplicationContext;
  let serverNats: NatsService;
  let clientNats: NatsService;
  let client: RpcClient;

  beforeAll(async () => {
    serverNats = await NatsService.connect(options);
    clientNats = await NatsService.connect({ ...options, service: 'caller' });
    client = new RpcClient(clientNats);
    app = await startServer(serverNats);
  });

  afterAll(async () => {
    await app.close();
    await serverNats.drain();
    await clientNats.drain();
  });

  it('round-trips a validated request, applying defaults, with context in headers', async () => {
    const context = newContext({ tenantId: '0193a0f0-0000-7000-8000-000000000001' });
    const reply = await client.request(Greet, { name: 'Ada' }, { context });
    expect(reply).toEqual({
      text: 'hello Ada x1',
      tenantId: context.tenantId,
      requestId: context.requestId,
    });
  });

  it('rejects a bad request before sending it, naming the field', async () => {
    await expect(client.request(Greet, { name: '' })).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [{ field: 'name', message: 'must not be empty' }],
    });
  });

  it('validates on the server too, for callers that bypass the client', async () => {
    const reply = await clientNats.nc.request(
      options.namespace.rpcSubject(Greet.subject),
      JSON.stringify({ name: 7 }),
      { timeout: 2_000 },
    );
    const body = reply.json<{
      ok: boolean;
      error: { code: string; errors: { field: string }[] };
    }>();
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe(ErrorCode.ValidationFailed);
    expect(body.error.errors[0]!.field).toBe('name');
  });

  it('answers a body that is not JSON with VALIDATION_FAILED', async () => {
    const reply = await clientNats.nc.request(
      options.namespace.rpcSubject(Greet.subject),
      '{"name":',
      {
        timeout: 2_000,
      },
    );
    expect(reply.json()).toEqual({
      ok: false,
      error: {
        code: ErrorCode.ValidationFailed,
        message: 'invalid request: (root): must be valid JSON',
        errors: [{ field: '(root)', message: 'must be valid JSON' }],
      },
    });
  });

  it("treats a reply that breaks the service's own contract as INTERNAL, not the caller's fault", async () => {
    await expect(client.request(Broken, {})).rejects.toMatchObject({ code: ErrorCode.Internal });
  });

  it('treats a reply that breaks the contract on the caller side as INTERNAL too (e.g. a version mismatch)', async () => {
    const impostor = clientNats.nc.subscribe(options.namespace.rpcSubject('impostor.things.get'), {
      callback: (_error, msg) => {
        msg.respond(JSON.stringify({ ok: true, data: { text: 42 } }));
      },
    });
    const Impostor = defineRpc('impostor.things.get', z.object({}), z.object({ text: z.string() }));
    try {
      await expect(client.request(Impostor, {})).rejects.toMatchObject({
        name: 'RpcError',
        code: ErrorCode.Internal,
        message: 'malformed reply on impostor.things.get',
      });
    } finally {
      impostor.unsubscribe();
    }
  });

  it('carries an AppError code and reason to the caller', async () => {
    await expect(client.request(Fail, { kind: 'service' })).rejects.toMatchObject({
      name: 'RpcError',
      code: ErrorCode.Conflict,
      reason: 'GREETER_DUPLICATE',
      message: 'already greeted',
    });
  });

  it('turns an unexpected exception into INTERNAL without leaking its message', async () => {
    const error = await client.request(Fail, { kind: 'crash' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.Internal });
    expect((error as Error).message).not.toContain('boom');
  });

  it('answers SERVICE_UNAVAILABLE (retry later) when a dependency is down, not INTERNAL', async () => {
    await expect(client.request(Fail, { kind: 'outage' })).rejects.toMatchObject({
      code: ErrorCode.ServiceUnavailable,
      message: 'the greeter service cannot reach a dependency right now; retry shortly',
    });
  });

  it('says TIMEOUT when the service does not answer in time', async () => {
    await expect(client.request(Slow, { ms: 500 }, { timeoutMs: 100 })).rejects.toMatchObject({
      code: ErrorCode.Timeout,
      message: 'the greeter service did not answer within 100 ms',
    });
  });

  it('says SERVICE_UNAVAILABLE when nobody answers the subject', async () => {
    await expect(client.request(Missing, {})).rejects.toMatchObject({
      code: ErrorCode.ServiceUnavailable,
      message: 'the nobody service is not available',
    });
  });

  it('says SERVICE_UNAVAILABLE, not a hang, when its own NATS connection is closed', async () => {
    const closed = await NatsService.connect({ ...options, service: 'closing-caller' });
    const caller = new RpcClient(closed);
    await closed.drain();
    await expect(
      caller.request(Greet, { name: 'Ada' }, { timeoutMs: 2_000 }),
    ).rejects.toMatchObject({
      code: ErrorCode.ServiceUnavailable,
      message: 'the greeter service cannot be reached: the NATS connection is closed',
    });
  });

  it('shares load between replicas in the queue group', async () => {
    const second = await NatsService.connect(options);
    const replica = await startServer(second);
    try {
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => client.request(Greet, { name: `n${i}` })),
      );
      expect(replies).toHaveLength(50);
      const subs = [serverNats, second].map((n) => n.nc.stats().inMsgs);
      expect(subs.every((count) => count > 0)).toBe(true);
    } finally {
      await replica.close();
      await second.drain();
    }
  });
});
