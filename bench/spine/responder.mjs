// Baseline: core NATS responder echoing every request on SUBJECT back to its reply inbox
// (copied from ../shared/anchors/nats/responder.mjs). Sends 'ready' over IPC once subscribed.
import { connect } from '@nats-io/transport-node';

const nc = await connect({ servers: process.env.NATS_URL ?? '127.0.0.1:4222' });
const sub = nc.subscribe(process.env.SUBJECT ?? 'bench.echo');
await nc.flush();
process.send?.('ready');
process.on('SIGTERM', async () => {
  await nc.drain();
  process.exit(0);
});
for await (const m of sub) m.respond(m.data);
