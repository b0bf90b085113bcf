// The forwarder baseline's other end (copied from ../shared/anchors/gateway-floor/echo.mjs): answers
// every request on SUBJECT with a fixed tenant as JSON. Sends 'ready' over IPC once subscribed.
import { connect } from '@nats-io/transport-node';

const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
const now = new Date().toISOString();
const body = JSON.stringify({
  id: '00000000-0000-7000-8000-000000000000',
  name: 'Acme Corp',
  slug: 'acme',
  status: 'active',
  createdAt: now,
  updatedAt: now,
});
nc.subscribe(process.env.SUBJECT, { queue: 'q', callback: (_e, m) => m.respond(body) });
await nc.flush();
process.send?.('ready');
process.on('SIGTERM', async () => {
  await nc.drain();
  process.exit(0);
});
