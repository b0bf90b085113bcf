import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { HealthPaths } from '@tenantry/contracts';
import { runCheck } from './readiness.js';
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
  ready() {
    return this.terminus.check(
      this.health.checkList.map((check) => async () => {
        const session = this.indicators.check(check.name);
        const result = await runCheck(check);
        return result.status === 'up'
          ? session.up()
          : session.down({ message: result.message ?? 'down' });
      }),
    );
  }
}
