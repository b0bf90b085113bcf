import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SERVICES, type ServiceName } from '@tenantry/contracts';
import {
  canConnect,
  cleanupNamespace,
  freePort,
  REPO_ROOT,
  testNamespace,
  waitFor,
} from '@tenantry/testing';

interface OsProcess {
  pid: number;
  argv: string[];
}

/**
 * Live processes (zombies do not count) whose environment holds TENANTRY_NAMESPACE=<namespace>:
 * everything an `npm start` in that namespace runs (npm, its shell, start.mjs, the services).
 */
function processesIn(namespace: string): OsProcess[] {
  const found: OsProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (!env.includes(`TENANTRY_NAMESPACE=${namespace}`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'Z') continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      found.push({ pid: Number(entry), argv });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !'ZX'.includes(stat[stat.lastIndexOf(')') + 2]!);
  } catch {
    return false;
  }
}

/** The six service processes, by service: `node …/apps/<service>/dist/main.js`. */
function servicePids(namespace: string): Map<string, number> {
  const pids = new Map<string, number>();
  for (const { pid, argv } of processesIn(namespace)) {
    const main = argv[1]?.match(/apps\/([\w-]+)\/dist\/main\.js$/);
    if (main) pids.set(main[1]!, pid);
  }
  return pids;
}

/** `node tools/start.mjs` (not the `sh -c` that npm runs it through). */
function startScriptPid(namespace: string): number | undefined {
  return processesIn(namespace).find(
    ({ argv }) => basename(argv[0] ?? '') === 'node' && argv[1] === 'tools/start.mjs',
  )?.pid;
}

interface NpmStart {
  namespace: string;
  ports: Record<ServiceName, number>;
  npm: ChildProcess;
  output: () => string;
  exit: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

const runs: NpmStart[] = [];

/** `npm start` in a namespace of its own on free ports, in its own process group; resolves once its banner is out. */
async function npmStart(): Promise<NpmStart> {
  const namespace = testNamespace('s');
  const ports = {} as Record<ServiceName, number>;
  const taken = new Set<number>();
  for (const service of SERVICES) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[service] = port;
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TENANTRY_NAMESPACE: namespace,
    LOG_LEVEL: 'info',
  };
  for (const service of SERVICES)
    env[`${service.toUpperCase().replace(/-/g, '_')}_PORT`] = String(ports[service]);
  const npm = spawn('npm', ['start'], {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exit: ReturnType<NpmStart['exit']>;
  npm.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  npm.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  npm.on('exit', (code, signal) => (exit = { code, signal }));
  const run: NpmStart = { namespace, ports, npm, output: () => output, exit: () => exit };
  runs.push(run);
  const outcome = await waitFor(
    'the npm start banner',
    async () => (exit ? 'exited' : output.includes('Press Ctrl-C to stop.') && 'up'),
    { timeoutMs: 150_000, intervalMs: 200 },
  ).catch((error: Error) => error.message);
  if (outcome !== 'up') {
    throw new Error(`npm start: ${outcome} ${JSON.stringify(exit ?? {})}\n--- it said:\n${output}`);
  }
  return run;
}

/** Every service running, found by its namespace, each on the port it was given. */
async function runningServices(run: NpmStart): Promise<Map<string, number>> {
  const pids = servicePids(run.namespace);
  expect([...pids.keys()].sort()).toEqual([...SERVICES].sort());
  for (const service of SERVICES) {
    expect(await canConnect('127.0.0.1', run.ports[service], 1_000)).toBe(true);
  }
  return pids;
}

/** npm gone, no process of the namespace left (services, start.mjs, shell), the gateway port closed. */
async function expectAllGone(run: NpmStart, pids: Map<string, number>): Promise<void> {
  await waitFor('npm start to exit', async () => run.exit() !== undefined, {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  // A process on its way out may no longer show its environment, hence both checks.
  await waitFor(
    'every process of the namespace to end',
    async () =>
      processesIn(run.namespace).length === 0 && [...pids.values()].every((pid) => !isAlive(pid)),
    { timeoutMs: 30_000, intervalMs: 100 },
  ).catch((error: Error) => {
    const left = processesIn(run.namespace).map(({ pid, argv }) => `${pid} ${argv.join(' ')}`);
    const alive = [...pids].filter(([, pid]) => isAlive(pid)).map(([service]) => service);
    throw new Error(`${error.message}; left: ${[...left, ...alive].join(', ')}`);
  });
  expect(await canConnect('127.0.0.1', run.ports.gateway, 1_000)).toBe(false);
}

describe('npm start', () => {
  afterAll(async () => {
    for (const run of runs) {
      // A failed test may leave processes: kill what this namespace still runs, then clean it.
      for (const { pid } of processesIn(run.namespace)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      run.npm.stdout?.destroy();
      run.npm.stderr?.destroy();
      await cleanupNamespace(run.namespace);
      rmSync(join(REPO_ROOT, 'tmp', 'logs', run.namespace), { recursive: true, force: true });
    }
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'stops every service when only the npm process gets %s',
    async (signal) => {
      const run = await npmStart();
      const pids = await runningServices(run);

      // The console: a line per service when ready, the gateway's requests, no info noise.
      for (const service of SERVICES) {
        expect(run.output()).toMatch(
          new RegExp(`^✓ ${service} ready on :${run.ports[service]} \\(\\d+\\.\\d s\\)$`, 'm'),
        );
      }
      const health = await fetch(`http://127.0.0.1:${run.ports.gateway}/v1/health`);
      expect(health.status).toBe(200);
      await waitFor('the request line', async () =>
        /^GET \/v1\/health 200 \d+\.\d ms$/m.test(run.output()),
      );
      expect(run.output()).not.toContain('"level"');
      expect(run.output()).not.toContain('successfully started');
      // The full JSON logs, one file per service.
      const logs = join(REPO_ROOT, 'tmp', 'logs', run.namespace);
      expect(run.output()).toContain(`tmp/logs/${run.namespace}/<service>.log`);
      for (const service of SERVICES) {
        expect(existsSync(join(logs, `${service}.log`))).toBe(true);
      }
      expect(readFileSync(join(logs, 'gateway.log'), 'utf8')).toContain(
        '"msg":"request completed"',
      );

      process.kill(run.npm.pid!, signal);
      await expectAllGone(run, pids);
      expect(run.output()).toContain('Stopped.');
    },
  );

  it.each(['node tools/start.mjs', 'npm'] as const)(
    'leaves no service behind when %s is SIGKILLed',
    async (victim) => {
      const run = await npmStart();
      const pids = await runningServices(run);
      const pid = victim === 'npm' ? run.npm.pid : startScriptPid(run.namespace);
      expect(pid).toBeDefined();

      process.kill(pid!, 'SIGKILL');
      await expectAllGone(run, pids);
    },
  );
});
