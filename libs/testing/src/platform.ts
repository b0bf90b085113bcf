import { SERVICES, type ServiceName } from '@tenantry/contracts';
import {
  ServiceGroup,
  type LineHandler,
  type ServiceExit,
  type ServiceProcess,
} from '@tenantry/launcher';
import { cleanupNamespace, LOCAL_INFRA, type InfraUrls } from './cleanup.js';
import { testNamespace } from './ports.js';

export interface PlatformOptions {
  /** Defaults to a fresh test namespace. */
  namespace?: string;
  services?: readonly ServiceName[];
  infra?: Partial<InfraUrls>;
  /** Fixed ports; free ports otherwise. */
  ports?: Partial<Record<ServiceName, number>>;
  env?: Record<string, string>;
  logDir?: string;
  onLine?: LineHandler;
  onExit?: (exit: ServiceExit) => void;
}

/**
 * The services as separate processes against real infrastructure, like `npm start` runs
 * them (both launch through @tenantry/launcher), in a namespace of their own that
 * `destroy()` removes again.
 */
export class Platform {
  private constructor(
    readonly namespace: string,
    readonly infra: InfraUrls,
    private readonly group: ServiceGroup,
    /** The environment every service of the platform gets (namespace, infrastructure, options.env). */
    readonly env: Readonly<Record<string, string>>,
  ) {}

  static async create(options: PlatformOptions = {}): Promise<Platform> {
    const infra = { ...LOCAL_INFRA, ...options.infra };
    const namespace = options.namespace ?? testNamespace();
    const env = {
      TENANTRY_NAMESPACE: namespace,
      NATS_URL: infra.natsUrl,
      DB_BOOTSTRAP_URL: infra.bootstrapUrl,
      REDIS_URL: infra.redisUrl,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...options.env,
    };
    const group = await ServiceGroup.create({
      services: options.services ?? SERVICES,
      ports: options.ports,
      logDir: options.logDir,
      onLine: options.onLine,
      onExit: options.onExit,
      env,
    });
    return new Platform(namespace, infra, group, env);
  }

  get processes(): ReadonlyMap<ServiceName, ServiceProcess> {
    return this.group.processes;
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
    await this.group.start({ timeoutMs });
  }

  async stop(): Promise<void> {
    await this.group.stop();
  }

  /** Stops everything and removes the namespace's streams, databases, roles and Redis keys. */
  async destroy(): Promise<void> {
    await this.stop();
    await cleanupNamespace(this.namespace, this.infra);
  }
}
