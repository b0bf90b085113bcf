import { fileURLToPath } from 'node:url';
import { BACKEND_SERVICES, type ServiceName } from '@tenantry/contracts';
import { cleanupNamespace, LOCAL_INFRA, type InfraUrls } from './cleanup.js';
import { freePort, testNamespace } from './ports.js';
import { ServiceProcess } from './service-process.js';

export interface PlatformOptions {
  /** Defaults to a fresh test namespace. */
  namespace?: string;
  services?: readonly ServiceName[];
  infra?: Partial<InfraUrls>;
  /** Fixed ports (npm start); free ports otherwise. */
  ports?: Partial<Record<ServiceName, number>>;
  env?: Record<string, string>;
  logDir?: string;
  onLine?: (service: string, line: string) => void;
}

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** The services as separate processes against real infrastructure, like `npm start` runs them. */
export class Platform {
  readonly processes = new Map<ServiceName, ServiceProcess>();

  private constructor(
    readonly namespace: string,
    readonly infra: InfraUrls,
  ) {}

  static async create(options: PlatformOptions = {}): Promise<Platform> {
    const infra = { ...LOCAL_INFRA, ...options.infra };
    const platform = new Platform(options.namespace ?? testNamespace(), infra);
    const services = options.services ?? (['gateway', ...BACKEND_SERVICES] as ServiceName[]);
    for (const service of services) {
      const port = options.ports?.[service] ?? (await freePort());
      platform.processes.set(
        service,
        new ServiceProcess({
          service,
          root: REPO_ROOT,
          port,
          logDir: options.logDir,
          onLine: options.onLine,
          env: {
            TENANTRY_NAMESPACE: platform.namespace,
            NATS_URL: infra.natsUrl,
            DB_BOOTSTRAP_URL: infra.bootstrapUrl,
            REDIS_URL: infra.redisUrl,
            LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
            SHUTDOWN_TIMEOUT_MS: '10000',
            ...options.env,
          },
        }),
      );
    }
    return platform;
  }

  service(name: ServiceName): ServiceProcess {
    const process = this.processes.get(name);
    if (!process) throw new Error(`${name} is not part of this platform`);
    return process;
  }

  get gatewayUrl(): string {
    return this.service('gateway').url;
  }

  async start(timeoutMs = 90_000): Promise<void> {
    for (const process of this.processes.values()) process.start();
    await Promise.all([...this.processes.values()].map((p) => p.waitReady(timeoutMs)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.stop()));
  }

  /** Stops everything and removes the namespace's streams, databases, roles and Redis keys. */
  async destroy(): Promise<void> {
    await this.stop();
    await cleanupNamespace(this.namespace, this.infra);
  }
}
