import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort, waitFor } from './ports.js';

/**
 * A private nats-server (JetStream on, file storage in a temp folder) on a free
 * port, for tests that stop and restart the broker: the machine's shared NATS is
 * never touched.
 */
export class NatsServerProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'tenantry-nats-'));

  private constructor(readonly port: number) {}

  static async start(
    bin = process.env.NATS_SERVER_BIN ?? 'nats-server',
  ): Promise<NatsServerProcess> {
    const server = new NatsServerProcess(await freePort());
    server.bin = bin;
    await server.startProcess();
    return server;
  }

  private bin = 'nats-server';

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  private async startProcess(): Promise<void> {
    const child = spawn(
      this.bin,
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      {
        stdio: 'ignore',
      },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(`nats-server on ${this.port}`, () => canConnect('127.0.0.1', this.port, 500), {
      timeoutMs: 10_000,
    });
  }

  /** SIGKILL: clients see the connection drop with no goodbye. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Starts again on the same port with the same JetStream store. */
  async restart(): Promise<void> {
    await this.kill();
    await this.startProcess();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
