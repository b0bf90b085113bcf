import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export interface ServiceProcessOptions {
  service: string;
  /** Repo root: the service runs `apps/<service>/dist/main.js` from there. */
  root: string;
  port: number;
  env: Record<string, string>;
  /** Where stdout/stderr go: a file under this folder, and/or a callback per line. */
  logDir?: string;
  onLine?: (service: string, line: string) => void;
}

/** One service as a real OS process, the way it runs in production. */
export class ServiceProcess {
  private child?: ChildProcess;
  private log?: WriteStream;
  private exited?: Promise<number | null>;

  constructor(readonly options: ServiceProcessOptions) {}

  get name(): string {
    return this.options.service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    const { root, service, port, env, logDir, onLine } = this.options;
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      this.log = createWriteStream(join(logDir, `${service}.log`), { flags: 'a' });
    }
    const child = spawn(process.execPath, [join(root, 'apps', service, 'dist', 'main.js')], {
      cwd: root,
      env: { ...process.env, ...env, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let pending = '';
    const onData = (chunk: Buffer) => {
      this.log?.write(chunk);
      if (!onLine) return;
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(service, line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
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
      if (!this.running)
        throw new Error(
          `${this.name} exited with code ${this.child?.exitCode} before it was ready`,
        );
      if (Date.now() > deadline)
        throw new Error(`${this.name} was not ready on ${this.url} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** SIGTERM and wait for a graceful exit (SIGKILL after `graceMs`). */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (!this.child || !this.running) return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    const code = await this.exited!;
    clearTimeout(timer);
    this.log?.end();
    return code;
  }

  /** SIGKILL: the process gets no chance to finish anything. */
  async kill(): Promise<void> {
    if (!this.child || !this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async restart(timeoutMs = 60_000): Promise<void> {
    await this.stop();
    this.start();
    await this.waitReady(timeoutMs);
  }
}
