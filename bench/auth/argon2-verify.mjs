// Baseline: raw @node-rs/argon2 verifications per second, with the parameters identity uses
// (argon2id, 19 MiB, t=2, p=1), CONCURRENCY in flight, for DURATION_S seconds. Prints one JSON line,
// with the process's CPU over the timed loop (the kernel's share is mostly page faults: each
// verification maps 19 MiB afresh).
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
const cpu0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      if (!(await verify(stored, password))) throw new Error('argon2 verify failed');
      done++;
    }
  }),
);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(
  `${JSON.stringify({
    verifies: done,
    seconds: wall,
    perSec: done / wall,
    // this process's CPU over the timed loop: % of one core, and per verification
    cpuPercent: Math.round((cpuSeconds / wall) * 100),
    cpuMsPerVerify: +((cpuSeconds * 1000) / done).toFixed(3),
    kernelShare: +(cpu.system / (cpu.user + cpu.system)).toFixed(3),
  })}\n`,
);
