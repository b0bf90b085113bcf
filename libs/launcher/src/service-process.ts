import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export type OutputStream = 'stdout' | 'stderr';

/** Called with every line a service writes, without its newline. */
export type LineHandler = (service: string, line: string, stream: OutputStream) => void;

export interface ServiceExit {
  service: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when `stop()` or `kill()` asked for it; false when the service ended by itself. */
  expected: boolean;
}

export interface ServiceProcessOptions {
  service: string;
  /** Repo root: the service runs `apps/<service>/dist/main.js` from there. */
  root: string;
  /** Another entry script, relative to `root` (a benchmark's variant of a service). */
  entry?: string;
  port: number;
  env: Record<string, string>;
  /** stdout and stderr, as written, go to `<logDir>/<service>.log`. */
  logDir?: string;
  /** Empty the log file at the first `start()`; later starts (a restart) append. Default: append. */
  truncateLog?: boolean;
  /** Each line of stdout and stderr. */
  onLine?: LineHandler;
  /** Each exit, once all of its output has been read. */
  onExit?: (exit: ServiceExit) => void;
}

/** Lines kept in memory for `recentLines()`, e.g. to show why a service died. */
const TAIL = 50;

/**
 * One service as a real OS process, the way it runs in production. It is spawned with an
 * IPC channel (fd 3): `runService` stops the service when that channel closes, so the
 * service goes away with the process that started it, however that process ends (even
 * SIGKILL). Signals reach it only from its supervisor (`stop()`, `kill()`).
 */
export class ServiceProcess {
  private child?: ChildProcess;
  private log?: WriteStream;
  private exited?: Promise<number | null>;
  private stopRequested = false;
  private starts = 0;
  private readonly tail: string[] = [];

  constructor(readonly options: ServiceProcessOptions) {}

  get name(): string {
    return this.options.service;
  }

  get port(): number {
    return this.options.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Where stdout and stderr are written, when a `logDir` was given. */
  get logFile(): string | undefined {
    return this.options.logDir ? join(this.options.logDir, `${this.name}.log`) : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the service wrote (stdout and stderr), oldest first. */
  recentLines(count = 20): string[] {
    return this.tail.slice(-count);
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const { root, service, port, env, onExit, entry } = this.options;
    const logFile = this.logFile;
    if (logFile) {
      mkdirSync(this.options.logDir!, { recursive: true });
      const truncate = this.options.truncateLog && this.starts === 0;
      this.log = createWriteStream(logFile, { flags: truncate ? 'w' : 'a' });
      this.log.on('error', () => undefined); // a full disk must not take the supervisor down
    }
    this.starts++;
    this.stopRequested = false;
    const script = entry ? join(root, entry) : join(root, 'apps', service, 'dist', 'main.js');
    const child = spawn(process.execPath, [script], {
      cwd: root,
      env: { ...process.env, ...env, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1' },
      // fd 3: the IPC channel whose end tells the service that its supervisor is gone.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // A session of its own: a terminal's Ctrl-C, Ctrl-Z or hang-up reaches the supervisor
      // only, which then stops the services in order (SIGTERM) instead of each on its own.
      detached: true,
    });
    // Only the service listens on it; it need not keep this process alive.
    child.channel?.unref();
    this.child = child;
    const log = this.log;
    const flushers = [
      this.read(child.stdout!, 'stdout', log),
      this.read(child.stderr!, 'stderr', log),
    ];
    // A failed spawn (say, EMFILE) also ends in 'close'.
    child.on('error', (error) => this.remember(`failed to start ${service}: ${error.message}`));
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        for (const flush of flushers) flush();
        log?.end();
        onExit?.({ service, code, signal, expected: this.stopRequested });
        resolve(code);
      });
    });
  }

  /** Copies a stream to the log as is, and hands its lines to `onLine`; returns a flush for the last, unterminated line. */
  private read(stream: Readable, name: OutputStream, log: WriteStream | undefined): () => void {
    const { onLine, service } = this.options;
    let pending = '';
    const emit = (line: string) => {
      if (!line) return;
      this.remember(line);
      onLine?.(service, line, name);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      log?.write(chunk);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) emit(line);
    });
    return () => {
      emit(pending);
      pending = '';
    };
  }

  private remember(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL) this.tail.shift();
  }

  async isReady(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/health/ready`, {
        signal: AbortSignal.timeout(2_000),
      });
      return response.status === 200;
    } catch {
      return false;
    }
  }

  /** Polls /health/ready; fails at once if the process exits (a start-up error), else after `timeoutMs`. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.isReady())) {
      if (!this.running) {
        const child = this.child;
        const how = child?.signalCode ? `on ${child.signalCode}` : `with code ${child?.exitCode}`;
        throw new Error(`${this.name} exited ${how} before it was ready`);
      }
      if (Date.now() > deadline)
        throw new Error(`${this.name} was not ready on ${this.url} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** SIGTERM and wait for a graceful exit (SIGKILL after `graceMs`); resolves to the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    if (this.running) {
      this.stopRequested = true;
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited!;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: the process gets no chance to finish anything. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.running) {
      this.stopRequested = true;
      child.kill('SIGKILL');
    }
    await this.exited;
  }

  async restart(timeoutMs = 60_000): Promise<void> {
    await this.stop();
    this.start();
    await this.waitReady(timeoutMs);
  }
}
