import { Inject, Injectable } from '@nestjs/common';
import type { ServiceHealth } from '@tenantry/contracts';
import { SERVICE_CONFIG } from '../config/config.module.js';
import type { ServiceConfig } from '../config/config.js';
import { READINESS_CHECKS, runCheck, type ReadinessCheck } from './readiness.js';

const VERSION = process.env.npm_package_version ?? '0.1.0';

@Injectable()
export class HealthService {
  private readonly startedAt = Date.now();

  constructor(
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  async readiness(): Promise<ServiceHealth> {
    const results = await Promise.all(
      this.checks.map(async (c) => [c.name, await runCheck(c)] as const),
    );
    const checks = Object.fromEntries(results);
    return {
      service: this.config.service,
      status: results.every(([, r]) => r.status === 'up') ? 'up' : 'down',
      checks,
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      instance: this.config.instanceId,
    };
  }
}
