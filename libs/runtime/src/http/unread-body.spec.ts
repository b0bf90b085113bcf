import { connect, type Socket } from 'node:net';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { sendAfterUnreadBody } from './unread-body.js';

/** A real Fastify server with a 1 KiB body limit and the hook, on a free port. */
async function server(maxBytes?: number, maxMs?: number) {
  const fastify = new FastifyAdapter({ bodyLimit: 1024 }).getInstance<FastifyInstance>();
  sendAfterUnreadBody(fastify, maxBytes, maxMs);
  fastify.post('/echo', async (request) => ({ got: request.body }));
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const address = fastify.server.address();
  return { fastify, port: typeof address === 'object' && address ? address.port : 0 };
}

/** A raw connection that records what comes back and how the connection ended. */
function client(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  const ended = new Promise<{ text: string; error?: string }>((resolve) => {
    let error: string | undefined;
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
    socket.on('close', () => resolve({ text: Buffer.concat(received).toString('latin1'), error }));
  });
  return { socket, received, ended };
}

const head = (length: number) =>
  `POST /echo HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('responses sent before the request body was read (sendAfterUnreadBody)', () => {
  it('answers a too-large request once the client sent its body: the 413 arrives, the connection closes cleanly', async () => {
    const { fastify, port } = await server();
    try {
      const { socket, received, ended } = client(port);
      const body = Buffer.alloc(200 * 1024, 'x');
      socket.write(head(body.length));
      socket.write(body.subarray(0, 1024));
      await sleep(300);
      expect(Buffer.concat(received).length).toBe(0); // still reading the body
      socket.write(body.subarray(1024));
      const { text, error } = await ended;
      expect(text).toMatch(/^HTTP\/1\.1 413 /);
      expect(error).toBeUndefined();
    } finally {
      await fastify.close();
    }
  });

  it('stops waiting after the time bound: a client that never finishes still gets the 413', async () => {
    const { fastify, port } = await server(8 * 1024 * 1024, 200);
    try {
      const { socket, ended } = client(port);
      socket.write(head(200 * 1024));
      socket.write(Buffer.alloc(1024, 'x'));
      const { text } = await ended;
      expect(text).toMatch(/^HTTP\/1\.1 413 /);
    } finally {
      await fastify.close();
    }
  });

  it('stops reading past the byte bound', async () => {
    const { fastify, port } = await server(4 * 1024, 60_000);
    try {
      const { socket, received } = client(port);
      socket.on('error', () => undefined);
      socket.write(head(10 * 1024 * 1024));
      socket.write(Buffer.alloc(8 * 1024, 'x'));
      for (let i = 0; i < 100 && !Buffer.concat(received).length; i++) await sleep(20);
      expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 413 /);
      socket.destroy();
    } finally {
      await fastify.close();
    }
  });

  it('leaves requests whose body was read alone', async () => {
    const { fastify, port } = await server();
    try {
      const { socket, ended } = client(port);
      const body = '{"a":1}';
      socket.write(head(body.length) + body);
      const { text } = await ended;
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(text).toContain('{"got":{"a":1}}');
    } finally {
      await fastify.close();
    }
  });
});
