// Baseline: the least a gateway can do (copied from ../shared/anchors/gateway-floor/fwd.mjs):
// Fastify answers GET /v1/tenants/:id with one plain NATS request to SUBJECT and returns the
// parsed reply. No framework, no validation, no context, no problem details, no metrics.
// Sends { port } over IPC once listening.
import Fastify from 'fastify';
import { connect } from '@nats-io/transport-node';

const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
const subject = process.env.SUBJECT;
const decoder = new TextDecoder();
const app = Fastify({ logger: false });
app.get('/v1/tenants/:id', async (req) => {
  const m = await nc.request(subject, JSON.stringify({ id: req.params.id }), { timeout: 5000 });
  return JSON.parse(decoder.decode(m.data));
});
await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: app.server.address().port });
process.on('SIGTERM', async () => {
  await app.close();
  await nc.drain();
  process.exit(0);
});
