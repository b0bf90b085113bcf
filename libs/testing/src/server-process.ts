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
  prepare?: (dataDir: string) => void;
  /** Run the server as this OS user when the tests run as root (PostgreSQL refuses to run as root). */
  user?: string;
}

/** Spawn options that drop to `user` when the tests run as root; nothing otherwise. */
function asUser(user: string | undefined): { uid?: number; gid?: number } {
  if (!user || process.getuid?.() !== 0) return {};
  return {
    uid: Number(execFileSync('id', ['-u', user]).toString().trim()),
    gid: Number(execFileSync('id', ['-g', user]).toString().trim()),
  };
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

  static async start(spec: ServerSpec): Promise<ServerProcess> {
    const dataDir = mkdtempSync(join(tmpdir(), `tenantry-${spec.name}-`));
    const ids = asUser(spec.user);
    if (ids.uid !== undefined) chownSync(dataDir, ids.uid, ids.gid!);
    const server = new ServerProcess(spec, await freePort(), dataDir);
    spec.prepare?.(dataDir);
    await server.launch();
    return server;
  }

  get url(): string {
    return this.spec.url(this.port);
  }

  private async launch(): Promise<void> {
    const child = spawn(this.spec.command, this.spec.args(this.port, this.dataDir), {
      stdio: 'ignore',
      ...asUser(this.spec.user),
    });
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

  /** SIGKILL by default: clients see their connections drop with no goodbye. */
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

/**
 * A throwaway PostgreSQL cluster (trust auth, superuser `postgres`) made with initdb.
 * Stop it with `kill('SIGQUIT')` (immediate shutdown): SIGKILL would leave its backends running.
 */
export function startPostgresServer(binDir = process.env.PG_BIN_DIR ?? ''): Promise<ServerProcess> {
  const bin = (name: string) => (binDir ? join(binDir, name) : name);
  const user = 'postgres';
  return ServerProcess.start({
    name: 'postgres',
    url: (port) => `postgres://postgres@127.0.0.1:${port}/postgres`,
    user,
    command: bin('postgres'),
    prepare: (dir) => {
      execFileSync(
        bin('initdb'),
        ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync'],
        {
          stdio: 'ignore',
          ...asUser(user),
        },
      );
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
