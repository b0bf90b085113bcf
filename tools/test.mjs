// `npm test`: static checks, build, then every project's tests (unit, integration, end-to-end)
// through Nx, against the local PostgreSQL, Redis and NATS. Every suite works in a namespace of
// its own (databases, streams, subjects, Redis keys) and removes it afterwards, so this runs
// beside a live `npm start`. Ends with one line: "tests: N passed, N failed".
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { checkInfrastructure } from './infra.mjs';

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_SKIP_NX_CACHE: 'true' };

function run(title, command, args) {
  console.log(`\n▶ ${title}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  return result.status === 0;
}

const problems = await checkInfrastructure();
if (problems.length) {
  for (const problem of problems) console.error(`✗ ${problem}`);
  console.error(
    'The tests run against real PostgreSQL, Redis and NATS (JetStream); start them first.',
  );
  process.exit(1);
}

rmSync('tmp/test-results', { recursive: true, force: true });
const ok =
  run('build (tsc -b)', 'npx', ['tsc', '-b', 'tsconfig.build.json']) &&
  run('type-check tests (tsc -p tsconfig.check.json)', 'npx', [
    'tsc',
    '-p',
    'tsconfig.check.json',
  ]) &&
  run('format (prettier --check)', 'npx', ['prettier', '--check', '--log-level', 'warn', '.']) &&
  run('lint (eslint, Nx module boundaries)', 'npx', [
    'nx',
    'run-many',
    '-t',
    'lint',
    '--outputStyle=static',
    '--skip-nx-cache',
  ]);

let testsOk = false;
if (ok) {
  testsOk = run('tests (nx run-many -t test)', 'npx', [
    'nx',
    'run-many',
    '-t',
    'test',
    '--outputStyle=static',
    '--parallel=2',
    '--skip-nx-cache',
  ]);
}

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  for (const file of readdirSync('tmp/test-results')) {
    const counts = JSON.parse(readFileSync(`tmp/test-results/${file}`, 'utf8'));
    passed += counts.passed;
    failed += counts.failed;
    skipped += counts.skipped;
  }
} catch {
  // no results: the build, format or lint step failed first
}
if (!ok || !testsOk) failed = Math.max(failed, 1);
console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok && testsOk ? 0 : 1);
