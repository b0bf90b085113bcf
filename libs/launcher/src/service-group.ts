import { fileURLToPath } from 'node:url';
import { SERVICES, type ServiceName } from '@tenantry/contracts';
import { freePort } from './ports.js';
import { ServiceProcess, type LineHandler, type ServiceExit } from './service-process.js';

/** The repository root, from which the services run as `apps/<service>/dist/main.js`. */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface ServiceGroupOptions {
  /** Default: all six. */
  services?: readonly ServiceName[];
  /** Default: REPO_ROOT. */
  root?: string;
  /** Fixed ports; a free port for every service not named. */
  ports?: Partial<Record<ServiceName, number>>;
  /** For every service, on top of this process's environment (HTTP_PORT and HTTP_HOST are set per service). */
  env?: Record<string, string>;
  /** One log file per service: `<logDir>/<service>.log`. */
  logDir?: string;
  /** Empty each log file when its service first starts. */
  truncateLogs?: boolean;
  onLine?: LineHandler;
  onExit?: (exit: ServiceExit) => void;
}

export interface GroupStartOptions {
  /** How long each service may take to become ready. */
  timeoutMs?: number;
  /** Called as each service becomes ready, with the time since the group started. */
  onReady?: (service: ServiceProcess, elapsedMs: number) => void;
}

/** A set of services launched, watched and stopped together, each as its own process. */
export class ServiceGroup {
  readonly processes = new Map<ServiceName, ServiceProcess>();

  private constructor() {}

  static async create(options: ServiceGroupOptions = {}): Promise<ServiceGroup> {
    const group = new ServiceGroup();
    for (const service of options.services ?? SERVICES) {
      group.processes.set(
        service,
        new ServiceProcess({
          service,
          root: options.root ?? REPO_ROOT,
          port: options.ports?.[service] ?? (await freePort()),
          env: options.env ?? {},
          logDir: options.logDir,
          truncateLog: options.truncateLogs,
          onLine: options.onLine,
          onExit: options.onExit,
        }),
      );
    }
    return group;
  }

  service(name: ServiceName): ServiceProcess {
    const process = this.processes.get(name);
    if (!process) throw new Error(`${name} is not part of this group`);
    return process;
  }

  /** Starts every service at once and waits until each is ready; rejects on the first that fails. */
  async start({ timeoutMs = 90_000, onReady }: GroupStartOptions = {}): Promise<void> {
    const started = Date.now();
    for (const process of this.processes.values()) process.start();
    await Promise.all(
      [...this.processes.values()].map(async (process) => {
        await process.waitReady(timeoutMs);
        onReady?.(process, Date.now() - started);
      }),
    );
  }

  /** SIGTERM to all, SIGKILL to any still running after `graceMs`; resolves to their exit codes. */
  stop(graceMs?: number): Promise<(number | null)[]> {
    return Promise.all([...this.processes.values()].map((p) => p.stop(graceMs)));
  }

  /** SIGKILL to all. */
  async kill(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.kill()));
  }
}
