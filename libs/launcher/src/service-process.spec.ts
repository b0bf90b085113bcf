import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import {
  ServiceProcess,
  type OutputStream,
  type ServiceExit,
  type ServiceProcessOptions,
} from './service-process.js';

// A stand-in for apps/<service>/dist/main.js: logs a line to each stream, serves /health/ready,
// and (FAKE_MODE) crashes at start or ignores SIGTERM.
const FAKE_SERVICE = `
const http = require('node:http');
const mode = process.env.FAKE_MODE ?? 'serve';
console.log(JSON.stringify({ level: 30, msg: 'starting', ipc: !!process.channel }));
console.error('a line on stderr');
if (mode === 'crash') {
  console.error('boom');
  process.exit(3);
}
http
  .createServer((req, res) => {
    res.statusCode = req.url === '/health/ready' ? 200 : 404;
    res.end();
  })
  .listen(Number(process.env.HTTP_PORT), process.env.HTTP_HOST);
process.on('SIGTERM', () => {
  if (mode === 'stubborn') return console.log('ignoring SIGTERM');
  console.log('stopping');
  process.exit(0);
});
if (process.channel) process.channel.unref();
`;

describe('ServiceProcess', () => {
  let root: string;
  let logDir: string;
  const started: ServiceProcess[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'tenantry-launcher-'));
    logDir = join(root, 'logs');
    mkdirSync(join(root, 'apps', 'fake', 'dist'), { recursive: true });
    writeFileSync(join(root, 'apps', 'fake', 'dist', 'main.js'), FAKE_SERVICE);
    writeFileSync(join(root, 'apps', 'fake', 'package.json'), '{ "type": "commonjs" }');
  });

  afterAll(async () => {
    await Promise.all(started.map((service) => service.kill()));
    rmSync(root, { recursive: true, force: true });
  });

  async function fake(options: Partial<ServiceProcessOptions> & { mode?: string } = {}) {
    const lines: [string, OutputStream][] = [];
    const exits: ServiceExit[] = [];
    const service = new ServiceProcess({
      service: 'fake',
      root,
      port: await freePort(),
      env: { FAKE_MODE: options.mode ?? 'serve' },
      logDir,
      onLine: (_, line, stream) => lines.push([line, stream]),
      onExit: (exit) => exits.push(exit),
      ...options,
    });
    started.push(service);
    return { service, lines, exits };
  }

  it('runs the service with an IPC channel, reads its lines, logs them to a file and stops it with SIGTERM', async () => {
    const { service, lines, exits } = await fake();
    service.start();
    await service.waitReady(10_000);
    expect(service.running).toBe(true);
    expect(lines).toContainEqual([
      JSON.stringify({ level: 30, msg: 'starting', ipc: true }),
      'stdout',
    ]);
    expect(lines).toContainEqual(['a line on stderr', 'stderr']);

    expect(await service.stop()).toBe(0);
    expect(service.running).toBe(false);
    expect(exits).toEqual([{ service: 'fake', code: 0, signal: null, expected: true }]);
    expect(service.recentLines(1)).toEqual(['stopping']);
    const log = readFileSync(service.logFile!, 'utf8');
    expect(log).toContain('"msg":"starting"');
    expect(log).toContain('a line on stderr');
  });

  it('empties the log at the first start when asked, and appends on a restart', async () => {
    writeFileSync(join(logDir, 'fake.log'), 'left over from an earlier run\n');
    const { service } = await fake({ truncateLog: true });
    service.start();
    await service.waitReady(10_000);
    await service.restart(10_000);
    await service.stop();
    const log = readFileSync(service.logFile!, 'utf8');
    expect(log).not.toContain('left over');
    expect(log.match(/"msg":"starting"/g)).toHaveLength(2);
  });

  it('tells an exit nobody asked for, with the last lines, and fails waitReady at once', async () => {
    const { service, exits } = await fake({ mode: 'crash' });
    service.start();
    await expect(service.waitReady(10_000)).rejects.toThrow('fake exited with code 3 before');
    await service.stop();
    expect(exits).toEqual([{ service: 'fake', code: 3, signal: null, expected: false }]);
    expect(service.recentLines().slice(-1)).toEqual(['boom']);
  });

  it('SIGKILLs a service that does not stop within the grace period', async () => {
    const { service, exits } = await fake({ mode: 'stubborn' });
    service.start();
    await service.waitReady(10_000);
    expect(await service.stop(300)).toBeNull();
    expect(exits).toEqual([{ service: 'fake', code: null, signal: 'SIGKILL', expected: true }]);
  });
});
