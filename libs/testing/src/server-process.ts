import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort, waitFor } from './ports.js';

interface ServerSpec {
  name: string;
  /** Client URL for a port, e.g. `nats://127.0.0.1:4333`. */
  url: (port: number) => string;
  command: string;
  args: (port: number, dataDir: string) => string[];
  /** Runs once before the first start (e.g. initdb). */
  prepare?: (dataDir: string) => Promise<void>;
  /** Run the server as this OS user when the tests run as root (PostgreSQL refuses root). */
  user?: string;
}

/**
 * A private infrastructure server (nats-server, redis-server, postgres) on a free
 * port with its data in a temp folder, for tests that kill and restart it: the
 * machine's shared services are never touched.
 */
export class ServerProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    private readonly spec: ServerSpec,
    readonly port: number,
    readonly dataDir: string,
  ) {}

  get url(): string {
    return this.spec.url(this.port);
  }

  static async start(spec: ServerSpec): Promise<ServerProcess> {
    const dataDir = mkdtempSync(join(tmpdir(), `tenantry-${spec.name}-`));
    if (spec.user && process.getuid?.() === 0) chownSync(dataDir, ...uidGid(spec.user));
    const server = new ServerProcess(spec, await freePort(), dataDir);
    await spec.prepare?.(dataDir);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const asUser = this.spec.user && process.getuid?.() === 0;
    const args = this.spec.args(this.port, this.dataDir);
    const child = asUser
      ? spawn('runuser', ['-u', this.spec.user!, '--', this.spec.command, ...args], {
          stdio: 'ignore',
        })
      : spawn(this.spec.command, args, { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      `${this.spec.name} on port ${this.port}`,
      () => canConnect('127.0.0.1', this.port, 500),
      {
        timeoutMs: 15_000,
      },
    );
  }

  /** SIGKILL: clients see their connections drop with no goodbye. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }

  /** Starts again on the same port with the same data. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function uidGid(user: string): [number, number] {
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  return [uid, gid];
}

/** nats-server with JetStream, file storage in the data folder. */
export function startNatsServer(
  bin = process.env.NATS_SERVER_BIN ?? 'nats-server',
): Promise<ServerProcess> {
  return ServerProcess.start({
    name: 'nats',
    url: (port) => `nats://127.0.0.1:${port}`,
    command: bin,
    args: (port, dir) => ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
  });
}

/** redis-server keeping nothing on disk (like the machine's). */
export function startRedisServer(
  bin = process.env.REDIS_SERVER_BIN ?? 'redis-server',
): Promise<ServerProcess> {
  return ServerProcess.start({
    name: 'redis',
    url: (port) => `redis://127.0.0.1:${port}`,
    command: bin,
    args: (port, dir) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
  });
}

/** A throwaway PostgreSQL cluster (trust auth, superuser `postgres`), made with initdb. */
export function startPostgresServer(binDir = process.env.PG_BIN_DIR ?? ''): Promise<ServerProcess> {
  const bin = (name: string) => (binDir ? join(binDir, name) : name);
  const user = 'postgres';
  return ServerProcess.start({
    name: 'postgres',
    url: (port) => `postgres://postgres@127.0.0.1:${port}/postgres`,
    user,
    command: bin('postgres'),
    prepare: async (dir) => {
      const initdb = [
        bin('initdb'),
        '-D',
        join(dir, 'data'),
        '-A',
        'trust',
        '-U',
        'postgres',
        '--no-sync',
      ];
      if (process.getuid?.() === 0)
        execFileSync('runuser', ['-u', user, '--', ...initdb], { stdio: 'ignore' });
      else execFileSync(initdb[0]!, initdb.slice(1), { stdio: 'ignore' });
    },
    args: (port, dir) => [
      '-D',
      join(dir, 'data'),
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ],
  });
}
