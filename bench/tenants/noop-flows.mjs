// The queue's own floor for the tenants benchmark: a BullMQ worker whose steps do nothing, in a
// process of its own. The parent (bench/tenants/index.mjs) adds flows shaped like a provisioning
// run (a chain of STEPS jobs, the first step the leaf) through the same Redis and times each
// flow from add to the completion of its last step.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.BENCH_BULL_PREFIX;
const queue = process.env.BENCH_QUEUE ?? 'noop-provisioning';
// The pipeline's worker concurrency (PROVISIONING_CONCURRENCY default).
const concurrency = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 10);

const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const worker = new Worker(queue, async () => ({ ok: true }), { connection, prefix, concurrency });
await worker.waitUntilReady();
process.send?.('ready');

const stop = async () => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
