// Baseline: bare Fastify v5, GET /hello -> small JSON (copied from ../shared/anchors/fastify/server.mjs).
// Sends { port } over IPC once listening.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world', ok: true }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.send?.({ port: app.server.address().port });
process.on('SIGTERM', async () => {
  await app.close();
  process.exit(0);
});
