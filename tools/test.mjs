// `npm test`: static checks, then the tests tier by tier: unit (no infrastructure), integration
// (real PostgreSQL, Redis, NATS), end-to-end (the services as processes). Every suite works in a
// namespace of its own (databases, streams, subjects, Redis keys) and removes it afterwards, so
// this runs beside a live `npm start`. Ends with one line: "tests: N passed, N failed".
//
//   node tools/test.mjs            everything (npm test)
//   node tools/test.mjs unit       unit specs only: no build, no infrastructure (npm run test:unit)
//   node tools/test.mjs int|e2e    one tier (e2e builds first: the services run from dist/)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { checkInfrastructure } from './infra.mjs';

const TIERS = {
  unit: { title: 'unit tests (*.spec.ts, no infrastructure)', workers: '50%', timeoutMs: 10_000 },
  int: {
    title: 'integration tests (*.int-spec.ts, PostgreSQL, Redis, NATS)',
    workers: '2',
    timeoutMs: 60_000,
  },
  // One file at a time: each starts the platform (six processes) on a 2-core machine.
  e2e: {
    title: 'end-to-end tests (*.e2e-spec.ts, services as processes)',
    workers: '1',
    timeoutMs: 180_000,
  },
};
const only = process.argv[2];
if (only && !TIERS[only]) {
  console.error(`unknown tier "${only}": use unit, int or e2e`);
  process.exit(2);
}

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_SKIP_NX_CACHE: 'true' };

function run(title, command, args, extraEnv = {}) {
  console.log(`\n▶ ${title}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...env, ...extraEnv } });
  return result.status === 0;
}

function jest(tier) {
  return run(
    TIERS[tier].title,
    process.execPath,
    [
      '--experimental-vm-modules',
      '--no-warnings=ExperimentalWarning',
      'node_modules/jest/bin/jest.js',
      '-c',
      'jest.config.js',
      `--maxWorkers=${TIERS[tier].workers}`,
      // In a multi-project run jest takes these from the command line, not from project configs.
      `--testTimeout=${TIERS[tier].timeoutMs}`,
      '--passWithNoTests',
    ],
    { TEST_TIER: tier },
  );
}

async function infrastructureUp() {
  const problems = await checkInfrastructure();
  for (const problem of problems) console.error(`✗ ${problem}`);
  if (problems.length)
    console.error(
      'The integration and end-to-end tests run against real PostgreSQL, Redis and NATS (JetStream); start them first.',
    );
  return problems.length === 0;
}

const build = () => run('build (tsc -b)', 'npx', ['tsc', '-b', 'tsconfig.build.json']);
const checks = () =>
  build() &&
  run('type-check tests (tsc -p tsconfig.check.json)', 'npx', [
    'tsc',
    '-p',
    'tsconfig.check.json',
  ]) &&
  run('format (prettier --check)', 'npx', ['prettier', '--check', '--log-level', 'warn', '.']) &&
  run('lint (eslint, Nx module boundaries and layers)', 'npx', [
    'nx',
    'run-many',
    '-t',
    'lint',
    '--outputStyle=static',
    '--skip-nx-cache',
  ]);

rmSync('tmp/test-results', { recursive: true, force: true });
let ok;
if (only === 'unit') ok = jest('unit');
else if (only === 'int') ok = (await infrastructureUp()) && jest('int');
else if (only === 'e2e') ok = (await infrastructureUp()) && build() && jest('e2e');
else ok = checks() && jest('unit') && (await infrastructureUp()) && jest('int') && jest('e2e');

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
  // no results: a check failed before any tests ran
}
if (!ok) failed = Math.max(failed, 1);
console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok ? 0 : 1);
