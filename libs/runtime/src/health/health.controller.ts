import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { HealthPaths } from '@tenantry/contracts';
import { HealthService } from './health.service.js';

/** `/health/live`: the process runs. `/health/ready`: every dependency answers (503 otherwise). */
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly terminus: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(HealthService) private readonly health: HealthService,
  ) {}

  @Get(HealthPaths.live)
  @HealthCheck()
  live() {
    return this.terminus.check([]);
  }

  @Get(HealthPaths.ready)
  @HealthCheck()
  async ready() {
    const { checks } = await this.health.readiness();
    return this.terminus.check(
      Object.entries(checks).map(([name, result]) => () => {
        const session = this.indicators.check(name);
        return result.status === 'up'
          ? session.up()
          : session.down({ message: result.message ?? 'down' });
      }),
    );
  }
}
