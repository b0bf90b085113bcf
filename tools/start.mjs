// `npm start`: builds, checks infrastructure, starts all six services as separate processes,
// waits until each is ready, prints the URLs. Ctrl-C stops everything cleanly.
import { spawnSync } from 'node:child_process';
import { checkInfrastructure } from './infra.mjs';

const COLORS = { gateway: 36, identity: 35, tenants: 32, policy: 33, audit: 34, billing: 31 };
const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const tty = process.stdout.isTTY;

function printLine(service, line) {
  let text = line;
  try {
    const entry = JSON.parse(line);
    const level = LEVELS[entry.level] ?? entry.level;
    text = `${level === 'info' ? '' : `${level.toUpperCase()} `}${entry.context ? `[${entry.context}] ` : ''}${entry.msg ?? ''}`;
    if (entry.err?.message) text += ` — ${entry.err.message}`;
  } catch {
    // not JSON (e.g. a crash trace): print as is
  }
  const label = service.padEnd(8);
  process.stdout.write(
    `${tty ? `\x1b[${COLORS[service] ?? 0}m${label}\x1b[0m` : label} | ${text}\n`,
  );
}

const problems = await checkInfrastructure();
if (problems.length) {
  for (const problem of problems) console.error(`✗ ${problem}`);
  console.error(
    'Tenantry needs PostgreSQL, Redis and NATS with JetStream; see README.md "Running it".',
  );
  process.exit(1);
}

console.log('Building…');
const build = spawnSync('npx', ['tsc', '-b', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const { DEFAULT_HTTP_PORTS } = await import('@tenantry/contracts');
const { Platform, canConnect } = await import('@tenantry/testing');

const namespace = process.env.TENANTRY_NAMESPACE ?? '';
const ports = { ...DEFAULT_HTTP_PORTS };
if (process.env.GATEWAY_PORT) ports.gateway = Number(process.env.GATEWAY_PORT);
for (const [service, port] of Object.entries(ports)) {
  if (await canConnect('127.0.0.1', port, 300)) {
    console.error(
      `✗ port ${port} (${service}) is already in use: is Tenantry already running? Stop it, or free the port.`,
    );
    process.exit(1);
  }
}

const platform = await Platform.create({
  namespace,
  ports,
  env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', HTTP_HOST: '127.0.0.1' },
  onLine: printLine,
});

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping all services…`);
  await platform.stop();
  console.log('Stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

const started = Date.now();
try {
  await platform.start(120_000);
} catch (error) {
  console.error(`✗ ${error.message}`);
  await platform.stop();
  process.exit(1);
}
const url = `http://127.0.0.1:${ports.gateway}`;
console.log(`
Tenantry is up (${((Date.now() - started) / 1000).toFixed(1)} s${namespace ? `, namespace ${namespace}` : ''}).
  Gateway:  ${url}
  API docs: ${url}/docs   (OpenAPI: ${url}/openapi.json)
  Health:   ${url}/v1/health
Press Ctrl-C to stop.
`);
