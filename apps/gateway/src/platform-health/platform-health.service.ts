import { Inject, Injectable } from '@nestjs/common';
import { BACKEND_SERVICES, healthCheckRpc, type PlatformHealth } from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { HealthService } from '@tenantry/runtime';

const HEALTH_TIMEOUT_MS = 2_000;

@Injectable()
export class PlatformHealthService {
  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(HealthService) private readonly own: HealthService,
  ) {}

  /** Asks every backend service for its readiness over NATS, in parallel, plus the gateway's own. */
  async check(): Promise<PlatformHealth> {
    const services: PlatformHealth['services'] = {};
    const gateway = await this.own.readiness();
    services.gateway = { status: gateway.status, checks: gateway.checks };
    await Promise.all(
      BACKEND_SERVICES.map(async (service) => {
        const started = performance.now();
        try {
          const health = await this.rpc.request(
            healthCheckRpc(service),
            {},
            { timeoutMs: HEALTH_TIMEOUT_MS },
          );
          services[service] = {
            status: health.status,
            latencyMs: Math.round((performance.now() - started) * 10) / 10,
            checks: health.checks,
          };
        } catch (error) {
          services[service] = { status: 'down', error: (error as Error).message };
        }
      }),
    );
    const up = Object.values(services).every((s) => s.status === 'up');
    return { status: up ? 'up' : 'degraded', services };
  }
}
