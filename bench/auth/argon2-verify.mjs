// Baseline: raw @node-rs/argon2 verifications per second, with the parameters identity uses
// (argon2id, 19 MiB, t=2, p=1), CONCURRENCY in flight, for DURATION_S seconds. Prints one JSON line.
import { hash, verify } from '@node-rs/argon2';

const options = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const concurrency = Number(process.env.CONCURRENCY ?? 8);
const seconds = Number(process.env.DURATION_S ?? 10);
const password = 'correct horse battery staple';
const stored = await hash(password, options);
for (let i = 0; i < 8; i++) await verify(stored, password); // warm-up
let done = 0;
const end = Date.now() + seconds * 1000;
const t0 = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      if (!(await verify(stored, password))) throw new Error('argon2 verify failed');
      done++;
    }
  }),
);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(`${JSON.stringify({ verifies: done, seconds: wall, perSec: done / wall })}\n`);
