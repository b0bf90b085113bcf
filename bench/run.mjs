// Benchmark runner: `npm run bench -- <area>` (or `node bench/run.mjs <area>`).
// Builds the workspace, runs bench/<area>/index.mjs, prints a table on stderr and one
// JSON line on stdout, and writes the JSON to bench/results/<area>-<timestamp>.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(BENCH_DIR, '..');

const areas = readdirSync(BENCH_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(BENCH_DIR, d.name, 'index.mjs')))
  .map((d) => d.name)
  .sort();

const area = process.argv[2];
if (!area || !areas.includes(area)) {
  process.stderr.write(
    `${area ? `unknown benchmark area "${area}"` : 'no benchmark area given'}\n` +
      `usage: npm run bench -- <area>\nareas: ${areas.join(', ')}\n`,
  );
  process.exit(1);
}

// The benchmarks run the built services (apps/*/dist) and the built test harness.
if (process.env.BENCH_SKIP_BUILD !== '1') {
  process.stderr.write('building the workspace: npx tsc -b tsconfig.build.json\n');
  const build = spawnSync('npx', ['tsc', '-b', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    process.stderr.write(`build failed (exit ${build.status}); nothing was measured\n`);
    process.exit(1);
  }
}

const { runCleanups, machineInfo, log } = await import('./lib/common.mjs');

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`\n${signal}: cleaning up (again to force exit)`);
    void runCleanups().finally(() => process.exit(130));
  });
}

const { default: run } = await import(pathToFileURL(join(BENCH_DIR, area, 'index.mjs')).href);
const startedAt = new Date();
let result;
try {
  result = await run();
} catch (error) {
  log(
    interrupted
      ? `\n${area} benchmark interrupted`
      : `\n${area} benchmark failed: ${error.stack ?? error.message}` +
          (error.cause ? `\ncaused by: ${error.cause.stack ?? error.cause}` : ''),
  );
  process.exitCode = interrupted ? 130 : 1;
} finally {
  await runCleanups();
}
if (result) {
  const output = {
    bench: area,
    date: startedAt.toISOString(),
    wallSeconds: +((Date.now() - startedAt.getTime()) / 1000).toFixed(1),
    machine: machineInfo(),
    ...result,
  };
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(BENCH_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${area}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`);
  log(`\nwritten to ${file.slice(ROOT.length + 1)}`);
  process.stdout.write(`${JSON.stringify(output)}\n`);
}
// Open handles (autocannon agents, pg pools) must not keep a finished run alive.
process.exit(process.exitCode ?? 0);
